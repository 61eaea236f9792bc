#!/usr/bin/env bash
# Packaging: the published crates (pssst-core, pssst-udp, pssst-cli,
# pssst-ffi, its proc-macro pssst-ffi-macros and pssst-ffi-core) package cleanly, each with
# its own README and both license files; `cargo publish --dry-run` has
# nothing to say; their docs build with -D warnings; and the minimum
# supported Rust version (`rust-version` in Cargo.toml) is true.
#
# Cheap by design: the dry run does not verify (a verifying dry run rebuilds
# every crate from its package, unoptimized: minutes). The other legs build
# and test the same sources, and `cargo package --list` shows what would be
# uploaded. PSSST_PUBLISH_VERIFY=1 verifies too.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

fail() { echo "FATAL: $*" >&2; exit 1; }
step() { echo "--- $*"; }

published=(pssst-core pssst-udp pssst-cli pssst-ffi-macros pssst-ffi-core pssst-ffi)
select=()
for crate in "${published[@]}"; do select+=(-p "$crate"); done
work="$(mktemp -d "${TMPDIR:-/tmp}/pssst-packaging.XXXXXX")"
trap 'rm -rf "$work"' EXIT

step "exactly these workspace members are publishable: ${published[*]}"
cargo metadata --no-deps --format-version 1 --locked > "$work/metadata.json"
python3 - "$work/metadata.json" "${published[@]}" <<'EOF'
import json, sys
meta = json.load(open(sys.argv[1]))
expected = set(sys.argv[2:])
problems = []
for p in meta["packages"]:
    publishable = p["publish"] != []
    if publishable != (p["name"] in expected):
        problems.append("%s: publish = %s" % (p["name"], "true" if publishable else "false"))
        continue
    if not publishable:
        continue
    for field in ("description", "license", "repository", "homepage", "documentation", "readme",
                  "rust_version"):
        if not p.get(field):
            problems.append("%s: no %s" % (p["name"], field))
    if not p["keywords"] or not p["categories"]:
        problems.append("%s: no keywords or categories" % p["name"])
    if p.get("readme") != "README.md":
        problems.append("%s: readme is %r, not the crate's own README.md" % (p["name"], p.get("readme")))
    for dep in p["dependencies"]:
        if dep.get("path") and dep["kind"] != "dev" and dep["req"] == "*":
            problems.append("%s: path dependency %s has no version" % (p["name"], dep["name"]))
if problems:
    sys.exit("\n".join(problems))
print("ok:", ", ".join(sorted(expected)))
EOF

step "cargo package --list: each crate carries README.md, LICENSE-MIT and LICENSE-APACHE"
for crate in "${published[@]}"; do
  cargo package --list --allow-dirty --locked -p "$crate" > "$work/$crate.files" 2> "$work/$crate.err" \
    || { cat "$work/$crate.err"; fail "cargo package --list -p $crate"; }
  for file in README.md LICENSE-MIT LICENSE-APACHE; do
    grep -qx "$file" "$work/$crate.files" || fail "$crate's package has no $file"
  done
  echo "$crate: $(wc -l < "$work/$crate.files") files"
done

verify=(--no-verify)
[ "${PSSST_PUBLISH_VERIFY:-0}" = 1 ] && verify=()
step "cargo publish --workspace --dry-run ${verify[*]} (no warnings allowed)"
# --allow-dirty: the leg also runs on a working tree with local changes.
cargo publish --workspace --dry-run --allow-dirty --locked "${verify[@]}" 2>&1 | tee "$work/publish.log"
if grep -E '^(warning|error)' "$work/publish.log" | grep -v 'aborting upload due to dry run'; then
  fail "cargo publish --dry-run is not clean"
fi
for crate in "${published[@]}"; do
  grep -q "Packaging $crate v" "$work/publish.log" || fail "the dry run did not package $crate"
done

step "docs of the library crates: RUSTDOCFLAGS='-D warnings' cargo doc --all-features"
RUSTDOCFLAGS="-D warnings" cargo doc --no-deps --all-features --locked \
  -p pssst-core -p pssst-udp -p pssst-ffi -p pssst-ffi-core -p pssst-ffi-macros

msrv="$(sed -n 's/^rust-version = "\(.*\)"/\1/p' Cargo.toml)"
[ -n "$msrv" ] || fail "no rust-version in Cargo.toml"
step "MSRV $msrv: no locked dependency needs a newer Rust"
cargo metadata --format-version 1 --locked > "$work/metadata-all.json"
python3 - "$work/metadata-all.json" "$msrv" <<'EOF'
import json, sys
def version(text):
    return tuple(int(part) for part in text.split("."))[:3] + (0,) * (3 - len(text.split(".")))
meta, msrv = json.load(open(sys.argv[1])), sys.argv[2]
newer = sorted("%s %s (rust-version %s)" % (p["name"], p["version"], p["rust_version"])
               for p in meta["packages"]
               if p.get("rust_version") and version(p["rust_version"]) > version(msrv))
if newer:
    sys.exit("rust-version %s is too low for:\n  %s" % (msrv, "\n  ".join(newer)))
highest = max((version(p["rust_version"]), p["name"]) for p in meta["packages"] if p.get("rust_version"))
print("ok: the highest rust-version among locked packages is %s (%s)"
      % (".".join(map(str, highest[0])), highest[1]))
EOF

step "MSRV $msrv: cargo +$msrv check --locked of the published crates"
if ! rustup run "$msrv" rustc --version >/dev/null 2>&1; then
  rustup toolchain install "$msrv" --profile minimal || fail "cannot install Rust $msrv"
fi
cargo "+$msrv" check --locked --all-features "${select[@]}"

echo "packaging leg passed"
