"""Drives the reference pypssst (PyPI pssst==0.2.1) for the cross tests.

Runs in its own venv (pypssst and this package are both named ``pssst``):
one JSON request per stdin line, one JSON answer per stdout line. Byte
strings travel as hex. Handlers stay here, named by integer ids.

  {"op": "info"}
  {"op": "keypair"}
  {"op": "pack", "server_public", "client_private"|null, "data", "ephemeral"?}
  {"op": "unpack_reply", "handle", "packet"}
  {"op": "unpack_request", "server_private", "packet"}
  {"op": "pack_reply", "handle", "data"}
  {"op": "kdf", "dh_param", "shared_secret"}   (pypssst's private _DKF_SHA256)

Errors come back as {"error": "module.ClassName", "pssst": bool}, where
"pssst" tells whether the class is a pypssst PSSSTException.
"""

import json
import sys

import pssst
import pssst.pssst as ref_impl
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    Encoding, NoEncryption, PrivateFormat, PublicFormat,
)

_handlers = {}
_next_id = [0]


def _keep(handler):
    _next_id[0] += 1
    _handlers[_next_id[0]] = handler
    return _next_id[0]


def _pub_hex(key):
    return key.public_bytes(encoding=Encoding.Raw, format=PublicFormat.Raw).hex()


class _FixedEphemeral:
    """Stands in for X25519PrivateKey inside pypssst while one request is packed."""

    def __init__(self, ephemeral):
        self._ephemeral = ephemeral

    def generate(self):
        return X25519PrivateKey.from_private_bytes(self._ephemeral)

    @staticmethod
    def from_private_bytes(data):
        return X25519PrivateKey.from_private_bytes(data)


def _opt(hexstr):
    return None if hexstr is None else bytes.fromhex(hexstr)


def handle(req):
    op = req["op"]
    if op == "info":
        return {"version": pssst.__version__, "file": pssst.__file__,
                "native": hasattr(pssst, "_pssst")}
    if op == "keypair":
        private, public = pssst.generate_key_pair()
        return {"private": private.private_bytes(
                    encoding=Encoding.Raw, format=PrivateFormat.Raw,
                    encryption_algorithm=NoEncryption()).hex(),
                "public": _pub_hex(public)}
    if op == "pack":
        client = pssst.PSSSTClient(bytes.fromhex(req["server_public"]),
                                   _opt(req.get("client_private")))
        if req.get("ephemeral") is not None:
            ref_impl.X25519PrivateKey = _FixedEphemeral(bytes.fromhex(req["ephemeral"]))
            try:
                packet, handler = client.pack_request(bytes.fromhex(req["data"]))
            finally:
                ref_impl.X25519PrivateKey = X25519PrivateKey
        else:
            packet, handler = client.pack_request(bytes.fromhex(req["data"]))
        return {"packet": packet.hex(), "handle": _keep(handler)}
    if op == "unpack_reply":
        return {"data": _handlers[req["handle"]](bytes.fromhex(req["packet"])).hex()}
    if op == "unpack_request":
        server = pssst.PSSSTServer(bytes.fromhex(req["server_private"]))
        data, client_key, handler = server.unpack_request(bytes.fromhex(req["packet"]))
        return {"data": data.hex(),
                "client_public": None if client_key is None else _pub_hex(client_key),
                "handle": _keep(handler)}
    if op == "pack_reply":
        return {"packet": _handlers[req["handle"]](bytes.fromhex(req["data"])).hex()}
    if op == "kdf":
        # pylint: disable=protected-access
        derived = ref_impl._DKF_SHA256(bytes.fromhex(req["dh_param"]),
                                       bytes.fromhex(req["shared_secret"]))
        return {"derived": [part.hex() for part in derived]}
    raise KeyError("unknown op " + op)


def main():
    for line in sys.stdin:
        try:
            answer = handle(json.loads(line))
        except Exception as err:  # pylint: disable=broad-except
            answer = {"error": type(err).__module__ + "." + type(err).__name__,
                      "pssst": isinstance(err, pssst.PSSSTException)}
        sys.stdout.write(json.dumps(answer) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
