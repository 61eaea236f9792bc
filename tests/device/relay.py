#!/usr/bin/env python3
"""Bridges a firmware's serial port in QEMU to a PSSST server over UDP.

    relay.py --server 127.0.0.1:PORT --server-key HEX -- qemu-system-arm ARGS...

Runs QEMU with its first serial port connected to this relay (TCP on
loopback) and speaks a length-framed protocol on it: each frame is a 2-byte
big-endian length, then the bytes. First the relay sends the server's public
key and a 32-byte seed from the host's RNG (QEMU has no TRNG); then each
frame from the device is one request datagram, sent to the server (resent
every second, up to 5 times, as a client's retransmission would), and the
reply goes back as one frame (an empty frame when none came). Exits with
QEMU's exit status, or 1 on a timeout. Python standard library only.
"""
import argparse
import os
import socket
import subprocess
import sys

TOTAL_SECONDS = 240   # the whole emulation, on a loaded machine
RESEND_SECONDS = 1.0
SENDS = 5


def read_exact(conn, n):
    data = b""
    while len(data) < n:
        chunk = conn.recv(n - len(data))
        if not chunk:
            return None
        data += chunk
    return data


def frame(payload):
    return len(payload).to_bytes(2, "big") + payload


def ask_server(server, request):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
        udp.settimeout(RESEND_SECONDS)
        for _ in range(SENDS):
            udp.sendto(request, server)
            try:
                reply, source = udp.recvfrom(65535)
            except socket.timeout:
                continue
            if source == server:
                return reply
    return b""


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--server", required=True, help="HOST:PORT of pssst serve")
    parser.add_argument("--server-key", required=True, help="its public key, hex")
    parser.add_argument("qemu", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    host, port = args.server.rsplit(":", 1)
    server = (host, int(port))
    key = bytes.fromhex(args.server_key)
    qemu = args.qemu[1:] if args.qemu[:1] == ["--"] else args.qemu
    if len(key) != 32 or not qemu:
        sys.exit("usage: relay.py --server HOST:PORT --server-key HEX -- QEMU ARGS...")

    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(TOTAL_SECONDS)
    serial = f"tcp:127.0.0.1:{listener.getsockname()[1]}"
    process = subprocess.Popen(qemu + ["-serial", serial])
    try:
        conn, _ = listener.accept()
        conn.settimeout(TOTAL_SECONDS)
        conn.sendall(frame(key + os.urandom(32)))
        frames = 0
        while True:
            header = read_exact(conn, 2)
            if header is None:
                break  # QEMU closed the port: the firmware is done
            request = read_exact(conn, int.from_bytes(header, "big"))
            if request is None:
                break
            reply = ask_server(server, request)
            frames += 1
            print(f"relay: request {frames}: {len(request)} bytes, reply {len(reply)} bytes",
                  flush=True)
            conn.sendall(frame(reply))
        return process.wait(timeout=TOTAL_SECONDS)
    except (socket.timeout, subprocess.TimeoutExpired):
        print("relay: timed out", file=sys.stderr)
        return 1
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


if __name__ == "__main__":
    sys.exit(main())
