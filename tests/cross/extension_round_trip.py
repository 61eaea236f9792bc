"""Loads an installed wheel's native module, pssst._pssst, on its own (not
the pssst package, which needs the cryptography package) and makes one
anonymous request and reply with it:

    python extension_round_trip.py SITE_PACKAGES

For a CPython without cryptography: Debian's armhf CPython under qemu-arm
(cryptography's armv7l wheels need cffi, which has none)."""

import importlib.machinery
import importlib.util
import os
import pathlib
import sys

native = pathlib.Path(sys.argv[1]) / "pssst" / "_pssst.abi3.so"
loader = importlib.machinery.ExtensionFileLoader("pssst._pssst", str(native))
module = importlib.util.module_from_spec(importlib.util.spec_from_loader("pssst._pssst", loader))
loader.exec_module(module)
print("pssst._pssst", module.__version__, "X25519 from", module._backend, "at", native)

server = module.Server(os.urandom(32))
client = module.Client(server._public_key_bytes())
packet, on_reply = client.pack_request(b"what time is it?")
message, client_key, reply = server.unpack_request(packet)
assert message == b"what time is it?" and client_key is None, (message, client_key)
answer = on_reply(reply(b"tea time"))
assert answer == b"tea time", answer
print('server got "what time is it?", client got "tea time"')
