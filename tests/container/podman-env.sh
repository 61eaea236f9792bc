# Sourced by the container tests: podman as this machine can run it.
#   ensure_podman DIR   installs podman and runc from Debian if missing,
#                       writes DIR/containers.conf and exports CONTAINERS_CONF
#                       naming it, and fails loudly unless podman answers.
# Why this configuration: the host's cgroups are in hybrid mode (crun refuses
# them: runc), no systemd manages them (cgroupfs), raising rlimits is not
# permitted (no default ulimits), and events go to a file, not the journal.

ensure_podman() {
  local dir=$1
  if ! command -v podman >/dev/null || ! command -v runc >/dev/null; then
    command -v apt-get >/dev/null || { echo "podman is missing and there is no apt-get to install it" >&2; return 1; }
    echo "--- installing podman and runc from Debian's packages"
    { DEBIAN_FRONTEND=noninteractive apt-get install -y -q podman runc >/dev/null \
      || { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q podman runc >/dev/null; }; } \
      || { echo "podman cannot be installed" >&2; return 1; }
  fi
  mkdir -p "$dir"
  cat >"$dir/containers.conf" <<'EOF'
[containers]
default_ulimits = []

[engine]
cgroup_manager = "cgroupfs"
runtime = "runc"
events_logger = "file"
EOF
  export CONTAINERS_CONF="$dir/containers.conf"
  podman info >"$dir/podman-info.txt" 2>&1 || { cat "$dir/podman-info.txt" >&2; echo "podman cannot run here" >&2; return 1; }
}
