#!/usr/bin/env python3
"""Writes suiteff01-kat.json and suiteff01-reject.json, the cipher suite
0xFF01 (X25519 + SHA-256 + AES-128-GCM-SIV) vectors, from a seeded RNG with
the independent implementation in tests/hostile/wire.py (Python's
`cryptography` only: X25519, SHA-256, AESGCMSIV; nothing of pssst-rs).

    python3 tests/vectors/generate_suiteff01.py [--check] [VECTORS_DIR]

VECTORS_DIR defaults to tests/vectors. --check writes nothing and fails
unless the files there are exactly what this script generates. The layout
is that of suite1-kat.json and suite1-reject.json (the reject file derives
its cross-suite cases from suite1-kat.json, read from VECTORS_DIR).
"""

import argparse
import hashlib
import json
import struct
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "hostile"))
import wire  # noqa: E402  (the independent implementation)

SUITE = wire.SUITE_GCM_SIV
KAT_SEED = "pssst-kat-ff01-v1"
REJECT_SEED = "pssst-reject-ff01-v1"
LENGTHS = (0, 1, 15, 16, 17, 64, 255, 1000, 1400)
ORDER8 = bytes.fromhex("e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd86620516" "5f49b800")
LOW_ORDER = {
    "dh-zero": (bytes(32), "u=0 (all-zero encoding: the point (0,0), of order 2)"),
    "dh-order8": (ORDER8, "u=e0eb7a7c...49b800 (point of order 8)"),
    "dh-one": (b"\x01" + bytes(31), "u=1 (a point of order 4)"),
}
INDEPENDENT = ("tests/hostile/wire.py: PSSST from Python's `cryptography` alone "
               "(X25519, SHA-256 via hashlib, AESGCMSIV), no pssst-rs code")


class CounterRng:
    """SHA-256(seed || be64(counter)) blocks, as the suite-1 vectors use."""

    def __init__(self, seed):
        self.seed, self.counter, self.buffered = seed.encode(), 0, b""

    def bytes(self, n):
        while len(self.buffered) < n:
            block = hashlib.sha256(self.seed + struct.pack(">Q", self.counter)).digest()
            self.buffered += block
            self.counter += 1
        out, self.buffered = self.buffered[:n], self.buffered[n:]
        return out


def key_pair(rng):
    private = wire.clamp(rng.bytes(32))
    return private, wire.public_key(private)


def kat_case(rng, message_len, client_auth):
    server_private, server_public = key_pair(rng)
    client_private, client_public = key_pair(rng) if client_auth else (None, None)
    message = rng.bytes(message_len)
    rng_bytes = rng.bytes(32)
    ephemeral = wire.clamp(rng_bytes)
    pending = wire.request(server_public, message, client_private, ephemeral=ephemeral,
                           suite=SUITE)
    shared = wire.x25519(server_private, pending.dh_param)
    key, request_nonce, reply_nonce = wire.kdf(pending.dh_param, shared)
    incoming = wire.open_request(server_private, pending.packet)
    assert incoming.message == message and incoming.client_public == client_public
    reply = incoming.reply(message[::-1])
    assert pending.open_reply(reply) == message[::-1]
    hexed = lambda value: None if value is None else value.hex()  # noqa: E731
    return {
        "id": f"{'auth' if client_auth else 'unauth'}-{message_len}",
        "suite": SUITE,
        "client_auth": client_auth,
        "message_len": message_len,
        "server_private": server_private.hex(),
        "server_public": server_public.hex(),
        "client_private": hexed(client_private),
        "client_public": hexed(client_public),
        "ephemeral_rng_bytes": rng_bytes.hex(),
        "ephemeral_secret": ephemeral.hex(),
        "dh_param": pending.dh_param.hex(),
        "shared_secret": shared.hex(),
        "aes_key": key.hex(),
        "client_nonce": request_nonce.hex(),
        "server_nonce": reply_nonce.hex(),
        "request_plaintext": message.hex(),
        "request_packet": pending.packet.hex(),
        "reply_plaintext": message[::-1].hex(),
        "reply_packet": reply.hex(),
    }


def kat_file(cases):
    return {
        "description": (
            "PSSST cipher suite 0xFF01 (X25519 + SHA-256 KDF + AES-128-GCM-SIV, RFC 8452) "
            "known-answer vectors, in the layout of suite1-kat.json: the same header, DH "
            "parameter, KDF, client-auth proof and AAD as suite 1, with AES-128-GCM-SIV "
            "in place of AES-128-GCM in both directions. A server holding server_private "
            "unpacks request_packet to request_plaintext (and client_public for auth "
            "cases) and re-creates reply_packet byte for byte; a client fed "
            "ephemeral_rng_bytes re-creates request_packet byte for byte and unpacks "
            "reply_packet. All byte strings are lowercase hex."
        ),
        "generator": f"tests/vectors/generate_suiteff01.py on {INDEPENDENT}",
        "cross_checked_with": [
            "pssst-core (crates/pssst-core/tests/kat.rs): every API variant, both X25519 "
            "backends, and the whole file regenerated from the RNG seed",
            "pssst-ffi (tests/c/test_vectors.c) and the Python package "
            "(tests/python/test_vectors.py)",
        ],
        "rng": (
            f"SHA-256 in counter mode: stream = SHA256(\"{KAT_SEED}\" || be64(0)) || "
            f"SHA256(\"{KAT_SEED}\" || be64(1)) || ... (seed as ASCII bytes, counter as "
            "8-byte big-endian). Consumed in case order (unauth "
            + ",".join(map(str, LENGTHS)) + " then auth with the same lengths); per case: "
            "32 bytes for the server key (clamped), 32 bytes for the client key (auth cases "
            "only, clamped), message_len bytes of request plaintext, then 32 bytes for the "
            "ephemeral (clamped), the order in which pssst-core's generate_key_pair_with_rng "
            "and pack_request_with_rng draw them."
        ),
        "fields": {
            "id": "case name: unauth-N / auth-N, N = request plaintext length",
            "suite": "cipher suite id (65281 = 0xFF01 = X25519 + SHA-256 KDF + AES-128-GCM-SIV)",
            "client_auth": "true if the request uses client authentication (header flag 0x4000)",
            "message_len": "request plaintext length in bytes",
            "server_private": "server X25519 private key, 32 bytes (clamped)",
            "server_public": "X25519(server_private, 9)",
            "client_private": "client X25519 private key, 32 bytes (auth cases; clamped); null "
                              "for unauth",
            "client_public": "X25519(client_private, 9); null for unauth",
            "ephemeral_rng_bytes": "the 32 raw bytes drawn from the RNG for the ephemeral key",
            "ephemeral_secret": "ephemeral scalar e: ephemeral_rng_bytes with b[0]&=248, "
                                "b[31]&=127, b[31]|=64. In auth requests these are the 32 "
                                "bytes after the client public key in the plaintext",
            "dh_param": "packet bytes 4..36: X25519(e, 9) unauth; X25519(e, client_public) auth",
            "shared_secret": "X25519(e, server_public) unauth; X25519(e, X25519(client_private, "
                             "server_public)) auth; equals X25519(server_private, dh_param)",
            "aes_key": "SHA256(dh_param || shared_secret)[0:16]",
            "client_nonce": "SHA256(dh_param || shared_secret)[16:24] || \"RQST\"",
            "server_nonce": "SHA256(dh_param || shared_secret)[24:32] || \"RPLY\"",
            "request_plaintext": "application message in the request",
            "request_packet": "header (flags u16 BE: 0x0000 or 0x4000, suite u16 BE 0xFF01) || "
                              "dh_param || AES-GCM-SIV(aes_key, client_nonce, aad=header, P) "
                              "with 16-byte tag appended; P = request_plaintext (unauth) or "
                              "client_public || ephemeral_secret || request_plaintext (auth)",
            "reply_plaintext": "reply message = request_plaintext reversed byte-wise",
            "reply_packet": "header (0x8000 unauth / 0xC000 auth, suite 0xFF01) || same dh_param "
                            "|| AES-GCM-SIV(aes_key, server_nonce, aad=reply header, "
                            "reply_plaintext) with tag",
        },
        "cases": cases,
    }


def sealed(flags, dh_param, key, nonce, plaintext, suite=SUITE):
    header = struct.pack(">HH", flags, suite)
    return header + dh_param + wire.AEADS[suite](key).encrypt(nonce, plaintext, header)


def flip(packet, offset, bit):
    out = bytearray(packet)
    out[offset] ^= 1 << bit
    return bytes(out)


def with_suite(packet, suite):
    return packet[:2] + struct.pack(">H", suite) + packet[4:]


def reject_cases(kat, suite1_kat, rng):
    """(id, description, expected_failure, derived_from, server case, packet)."""
    unauth, auth = kat["unauth-16"], kat["auth-16"]
    packet = bytes.fromhex(unauth["request_packet"])
    auth_packet = bytes.fromhex(auth["request_packet"])
    cases = [("empty", "zero-length packet", "truncated", None, unauth, b"")]
    for length, what in [(3, "incomplete header"), (35, "header + 31 of 32 DH bytes"),
                         (36, "header + DH param, no ciphertext, no tag"),
                         (51, "15 bytes after DH param: shorter than the 16-byte tag")]:
        cases.append((f"len{length}", f"first {length} bytes of a valid request ({what})",
                      "truncated", "unauth-16", unauth, packet[:length]))
    cases.append(("reply-flag", "valid unauth request with the REPLY flag (0x8000) set",
                  "not a request", "unauth-16", unauth, flip(packet, 0, 7)))
    for suite in (0, 0xFF02, 0xFFFF):
        cases.append((f"suite-{suite:x}",
                      f"valid unauth request with cipher suite changed to {suite:#x}",
                      "unsupported cipher suite", "unauth-16", unauth,
                      with_suite(packet, suite)))
    middle = 36 + (len(packet) - 52) // 2
    flips = [
        ("flip-ciphertext", "bit 0 of the first ciphertext byte (offset 36) flipped",
         unauth, packet, 36, 0),
        ("flip-tag", "the top bit of the last tag byte flipped", unauth, packet,
         len(packet) - 1, 7),
        ("flip-client-auth-set", "the CLIENT_AUTH header bit set (header is AAD)", unauth,
         packet, 0, 6),
        ("flip-client-auth-clear", "the CLIENT_AUTH header bit cleared (header is AAD)", auth,
         auth_packet, 0, 6),
        ("flip-ciphertext-bit-mid", "one bit flipped in the middle of the ciphertext", unauth,
         packet, middle, 3),
        ("flip-dh-param", "one bit of the DH param flipped", unauth, packet, 20, 0),
    ]
    for case_id, what, case, original, offset, bit in flips:
        mode = "client-auth" if case is auth else "unauth"
        cases.append((case_id, f"valid {mode} request with {what}", "decryption failed",
                      case["id"], case, flip(original, offset, bit)))
    # The header is AAD: a packet relabeled with the other suite never opens.
    for case in (unauth, auth):
        cases.append((f"relabeled-suite1-{case['id']}",
                      f"this file's {case['id']} request (AES-GCM-SIV) with its suite field set "
                      "to 1: opened with AES-GCM and the new header, it fails",
                      "decryption failed", case["id"], case,
                      with_suite(bytes.fromhex(case["request_packet"]), 1)))
    for case in (suite1_kat["unauth-16"], suite1_kat["auth-16"]):
        cases.append((f"suite1-{case['id']}-relabeled-ff01",
                      f"suite1-kat.json's {case['id']} request (AES-GCM) with its suite field "
                      "set to 0xFF01: opened with AES-GCM-SIV and the new header, it fails",
                      "decryption failed", f"suite1-kat.json {case['id']}", case,
                      with_suite(bytes.fromhex(case["request_packet"]), SUITE)))
    for case_id, (point, what) in LOW_ORDER.items():
        key, nonce, _ = wire.kdf(point, bytes(32))
        cases.append((case_id, f"DH param {what}; ciphertext = AES-GCM-SIV under "
                      "KDF(dh_param, 32 zero bytes) of \"low-order probe!\", so it would "
                      "decrypt if the all-zero shared secret were not rejected",
                      "low-order point", None, unauth,
                      sealed(0, point, key, nonce, b"low-order probe!")))
    ephemeral = bytes.fromhex(auth["ephemeral_secret"])
    message = bytes.fromhex(auth["request_plaintext"])
    key, nonce = bytes.fromhex(auth["aes_key"]), bytes.fromhex(auth["client_nonce"])
    dh_param = bytes.fromhex(auth["dh_param"])
    other_client = wire.public_key(wire.clamp(rng.bytes(32)))
    for case_id, claimed, what in [
            ("auth-swapped-client-key", other_client,
             f"a different valid client public key {other_client.hex()}"),
            ("auth-loworder-client-key", ORDER8, "the order-8 point")]:
        result = "!= dh_param" if claimed is other_client else "is all-zero"
        cases.append((case_id, f"auth request (auth-16 keys, DH param, ephemeral and key) "
                      f"re-sealed with {what} as embedded client public key; decrypts fine, "
                      f"X25519(e, C') {result}", "client auth failed", "auth-16", auth,
                      sealed(wire.REQUEST_AUTH, dh_param, key, nonce,
                             claimed + ephemeral + message)))
    server_public = bytes.fromhex(unauth["server_public"])
    for length in (0, 31, 63):
        e = wire.clamp(rng.bytes(32))
        dh = wire.public_key(e)
        key, nonce, _ = wire.kdf(dh, wire.x25519(e, server_public))
        cases.append((f"auth-short-proof-{length}", "CLIENT_AUTH request, correctly encrypted "
                      f"to the server key (fresh ephemeral, dh=e*G), whose plaintext is only "
                      f"{length} bytes (< 32-byte client key + 32-byte ephemeral)",
                      "truncated", None, unauth,
                      sealed(wire.REQUEST_AUTH, dh, key, nonce, rng.bytes(length))))
    return cases


def observed(server_private, packet):
    try:
        wire.open_request(server_private, packet)
    except wire.Rejected as rejected:
        return {"result": "error returned", "detail": rejected.kind}
    return {"result": "ACCEPTED (not rejected)", "detail": ""}


def reject_file(kat, suite1_kat, rng):
    cases = []
    for case_id, what, failure, derived, server, packet in reject_cases(kat, suite1_kat, rng):
        server_private = bytes.fromhex(server["server_private"])
        seen = observed(server_private, packet)
        if seen["detail"] != failure and not (36 <= len(packet) < 52 and failure == "truncated"):
            sys.exit(f"{case_id}: the independent server says {seen}, expected {failure}")
        cases.append({
            "id": case_id,
            "description": what,
            "expected_failure": failure,
            "derived_from": derived,
            "server_private": server["server_private"],
            "server_public": server["server_public"],
            "packet_len": len(packet),
            "request_packet": packet.hex(),
            "observed": {"independent": seen},
        })
    return {
        "description": (
            "PSSST cipher suite 0xFF01 request packets that a server holding server_private "
            "(accepting suites 1 and 0xFF01) must reject, in the layout of "
            "suite1-reject.json, generated from suiteff01-kat.json and fixed inputs, plus "
            "cross-suite cases: requests of either suite relabeled with the other, which "
            "must fail to decrypt because the header is the AEAD's associated data. "
            "expected_failure names the natural error class; 'observed' records what the "
            "independent implementation did."
        ),
        "references": {"independent": INDEPENDENT},
        "expected_failure_kinds": {
            "truncated": "packet (or, for client auth, the decrypted 64-byte auth proof) is "
                         "too short to parse: < 4 header bytes, < 36 header+DH bytes, < 16 tag "
                         "bytes after the DH param, or auth plaintext < 64 bytes",
            "not a request": "REPLY flag (0x8000) set in a packet given to the server",
            "unsupported cipher suite": "suite field is neither 1 nor 0xFF01",
            "decryption failed": "AES-GCM-SIV (or, relabeled, AES-GCM) authentication failed "
                                 "(tampered ciphertext, tag, header/AAD or DH param)",
            "client auth failed": "decrypts, but X25519(embedded ephemeral, embedded client "
                                  "public key) != dh_param (or is the all-zero output)",
            "low-order point": "X25519(server_private, dh_param) is all zero; packets are "
                               "sealed under KDF(dh_param, 32 zero bytes), so a server that "
                               "does not reject the all-zero shared secret accepts them",
        },
        "fields": {
            "id": "case name",
            "description": "how the packet was made",
            "expected_failure": "see expected_failure_kinds",
            "derived_from": "suiteff01-kat.json case the packet was derived from (or a "
                            "suite1-kat.json case, so named), if any",
            "server_private": "server X25519 private key (hex)",
            "server_public": "matching public key (hex)",
            "packet_len": "length of request_packet in bytes",
            "request_packet": "the packet (hex; empty string = zero-length packet)",
            "observed": "what the independent implementation (tests/hostile/wire.py "
                        "open_request) did with it",
        },
        "cases": cases,
    }


def render(document):
    return json.dumps(document, indent=2) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true",
                        help="compare with the files in VECTORS_DIR instead of writing them")
    parser.add_argument("vectors_dir", nargs="?", type=Path, default=HERE)
    args = parser.parse_args()
    suite1 = json.loads((args.vectors_dir / "suite1-kat.json").read_text())
    suite1_kat = {case["id"]: case for case in suite1["cases"]}

    rng = CounterRng(KAT_SEED)
    cases = [kat_case(rng, n, auth) for auth in (False, True) for n in LENGTHS]
    files = {"suiteff01-kat.json": render(kat_file(cases))}
    kat = {case["id"]: case for case in cases}
    files["suiteff01-reject.json"] = render(
        reject_file(kat, suite1_kat, CounterRng(REJECT_SEED)))

    stale = []
    for name, text in files.items():
        path = args.vectors_dir / name
        if args.check:
            if not path.exists() or path.read_text() != text:
                stale.append(name)
        else:
            path.write_text(text)
            print(f"wrote {path}")
    if stale:
        sys.exit(f"not what generate_suiteff01.py generates: {', '.join(stale)}")
    if args.check:
        print(f"{', '.join(files)} are what generate_suiteff01.py generates")


if __name__ == "__main__":
    main()
