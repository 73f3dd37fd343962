#!/usr/bin/env python3
"""A reference client of Martlet's axon profile (docs/axon.md), independent of the relay's
Swift code: MessagePack from PyPI's `msgpack`, ed25519 from `cryptography`, and a small
RFC 6455 client on the standard library's sockets (so a test can choose not to answer pings).

As a library:

    client = AxonClient.connect("ws://127.0.0.1:7777")
    client.authenticate(bytes.fromhex(secret_hex), "ws://127.0.0.1:7777")
    client.publish(nip01_event_dict)
    print(client.receive())          # {"type": "ok", "id": "..."}

As a process driven by JSON lines on stdin (the relay's end-to-end tests use it this way);
every relay message it reads is printed as one JSON line on stdout:

    python3 scripts/axon_client.py --url ws://127.0.0.1:7777
    {"op": "auth", "key": "<ed25519 secret hex>", "relay_url": "ws://127.0.0.1:7777"}
    {"op": "publish", "event": {<NIP-01 event JSON>}}
    {"op": "subscribe", "sub": "s", "filters": [{"kinds": [1], "ids": ["ab12"]}]}
    {"op": "unsubscribe", "sub": "s"}
    {"op": "raw", "hex": "9201"}           # any bytes as one binary frame
    {"op": "recv", "count": 2, "timeout": 10}
    {"op": "silence"}                       # stop answering pings
    {"op": "wait_close", "timeout": 60}
    {"op": "quit"}

Events and filters are written as in NIP-01 (hex ids, keys and signatures); the client turns
them into axon's binary fields. A filter's `ids` and `authors` may be hex prefixes of any
whole number of bytes. On connect it prints the relay's challenge; an auth prints nothing
more than what the relay answers, read with `recv`.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import socket
import struct
import sys
import urllib.parse

import msgpack
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

# The uint16 message types of docs/axon.md.
AUTH, PUBLISH, SUBSCRIBE, UNSUBSCRIBE = 0x0001, 0x0002, 0x0003, 0x0004
CHALLENGE, OK, ERROR, EVENT, END_OF_STORED = 0x0101, 0x0102, 0x0103, 0x0104, 0x0105

OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0x1, 0x2, 0x8, 0x9, 0xA


class Closed(Exception):
    """The relay closed the connection (`code` from its close frame, if it sent one)."""

    def __init__(self, code: int | None):
        super().__init__(f"closed ({code})")
        self.code = code


class AxonClient:
    def __init__(self, sock: socket.socket, protocol: str | None):
        self.sock = sock
        self.protocol = protocol
        self.answer_pings = True
        self.pings = 0
        self.buffer = b""

    @classmethod
    def connect(cls, url: str, protocol: str = "axon", timeout: float = 10) -> "AxonClient":
        parts = urllib.parse.urlsplit(url)
        sock = socket.create_connection((parts.hostname, parts.port or 80), timeout=timeout)
        key = base64.b64encode(os.urandom(16)).decode()
        request = (
            f"GET {parts.path or '/'} HTTP/1.1\r\nHost: {parts.hostname}:{parts.port}\r\n"
            f"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
            f"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: {protocol}\r\n\r\n"
        )
        sock.sendall(request.encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = sock.recv(4096)
            if not chunk:
                raise Closed(None)
            head += chunk
        head, rest = head.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        if " 101 " not in lines[0] + " ":
            raise RuntimeError(f"upgrade refused: {lines[0]}")
        headers = {line.split(":", 1)[0].strip().lower(): line.split(":", 1)[1].strip() for line in lines[1:] if ":" in line}
        accept = base64.b64encode(hashlib.sha1((key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()).digest()).decode()
        if headers.get("sec-websocket-accept") != accept:
            raise RuntimeError("bad Sec-WebSocket-Accept")
        client = cls(sock, headers.get("sec-websocket-protocol"))
        client.buffer = rest
        return client

    # RFC 6455 framing -----------------------------------------------------------------

    def send_frame(self, opcode: int, payload: bytes) -> None:
        mask = os.urandom(4)
        length = len(payload)
        if length < 126:
            header = struct.pack("!BB", 0x80 | opcode, 0x80 | length)
        elif length < 1 << 16:
            header = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, length)
        else:
            header = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, length)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.sock.sendall(header + mask + masked)

    def _read(self, count: int) -> bytes:
        while len(self.buffer) < count:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise Closed(None)
            self.buffer += chunk
        data, self.buffer = self.buffer[:count], self.buffer[count:]
        return data

    def read_message(self, timeout: float) -> tuple[int, bytes]:
        """The next data message (opcode, payload), answering pings on the way."""
        self.sock.settimeout(timeout)
        message, opcode = b"", None
        while True:
            first, second = self._read(2)
            frame_opcode, fin = first & 0x0F, bool(first & 0x80)
            length = second & 0x7F
            if length == 126:
                (length,) = struct.unpack("!H", self._read(2))
            elif length == 127:
                (length,) = struct.unpack("!Q", self._read(8))
            payload = self._read(length)
            if frame_opcode == OP_PING:
                self.pings += 1
                if self.answer_pings:
                    self.send_frame(OP_PONG, payload)
                continue
            if frame_opcode == OP_PONG:
                continue
            if frame_opcode == OP_CLOSE:
                code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else None
                raise Closed(code)
            if frame_opcode != 0:
                opcode = frame_opcode
            message += payload
            if fin:
                return opcode, message

    # axon ------------------------------------------------------------------------------

    def send(self, msg_type: int, payload: dict) -> None:
        self.send_frame(OP_BINARY, msgpack.packb([msg_type, payload], use_bin_type=True))

    def receive(self, timeout: float = 10) -> dict:
        opcode, data = self.read_message(timeout)
        if opcode != OP_BINARY:
            return {"type": "text", "data": data.decode("utf-8", "replace")}
        msg_type, payload = msgpack.unpackb(data, raw=False)
        return describe(msg_type, payload)

    def authenticate(self, secret: bytes, relay_url: str, nonce: bytes, tamper: str | None = None) -> str:
        """Sends the seed's auth: ed25519(secret, SHA256(nonce || relay_url)); returns the key's hex."""
        key = Ed25519PrivateKey.from_private_bytes(secret)
        public = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        sig = key.sign(hashlib.sha256(nonce + relay_url.encode()).digest())
        if tamper == "flip":
            sig = bytes([sig[0] ^ 1]) + sig[1:]
        self.send(AUTH, {"pubkey": public, "sig": sig})
        return public.hex()

    def publish(self, event: dict) -> None:
        self.send(PUBLISH, {"event": event_to_axon(event)})

    def subscribe(self, sub: str, filters: list[dict]) -> None:
        self.send(SUBSCRIBE, {"sub": sub, "filters": [filter_to_axon(f) for f in filters]})


def event_to_axon(event: dict) -> dict:
    return {
        "id": bytes.fromhex(event["id"]),
        "pubkey": bytes.fromhex(event["pubkey"]),
        "created_at": event["created_at"],
        "kind": event["kind"],
        "tags": event["tags"],
        "content": event["content"],
        "sig": bytes.fromhex(event["sig"]),
    }


def event_from_axon(event: dict) -> dict:
    return {
        "id": event["id"].hex(),
        "pubkey": event["pubkey"].hex(),
        "created_at": event["created_at"],
        "kind": event["kind"],
        "tags": event["tags"],
        "content": event["content"],
        "sig": event["sig"].hex(),
    }


def filter_to_axon(nip01: dict) -> dict:
    converted = dict(nip01)
    for field in ("ids", "authors"):
        if field in converted:
            converted[field] = [bytes.fromhex(value) for value in converted[field]]
    return converted


def describe(msg_type: int, payload: dict) -> dict:
    """A relay message as JSON: binary fields in hex, the event in its NIP-01 form."""
    names = {CHALLENGE: "challenge", OK: "ok", ERROR: "error", EVENT: "event", END_OF_STORED: "end_of_stored"}
    described = {"type": names.get(msg_type, f"unknown:{msg_type}")}
    for name, value in payload.items():
        if name == "event":
            described[name] = event_from_axon(value)
        elif isinstance(value, bytes):
            described[name] = value.hex()
        else:
            described[name] = value
    return described


def emit(line: dict) -> None:
    print(json.dumps(line), flush=True)


def drive(url: str) -> int:
    """Runs the JSON-lines protocol of the module's docstring."""
    client = AxonClient.connect(url)
    emit({"type": "connected", "protocol": client.protocol})
    if client.protocol != "axon":
        # The relay did not choose axon (it is off there): this socket speaks NIP-01 JSON.
        return 1
    try:
        challenge = client.receive()
    except (Closed, socket.timeout, TimeoutError, ValueError) as error:
        emit({"type": "no_challenge", "error": str(error)})
        return 1
    nonce = bytes.fromhex(challenge.get("nonce", ""))
    emit(challenge)
    for line in sys.stdin:
        if not line.strip():
            continue
        command = json.loads(line)
        op = command["op"]
        try:
            if op == "auth":
                signed = bytes.fromhex(command["nonce"]) if "nonce" in command else nonce
                key = client.authenticate(bytes.fromhex(command["key"]), command["relay_url"], signed, command.get("tamper"))
                emit({"type": "sent", "pubkey": key})
            elif op == "publish":
                client.publish(command["event"])
            elif op == "subscribe":
                client.subscribe(command["sub"], command["filters"])
            elif op == "unsubscribe":
                client.send(UNSUBSCRIBE, {"sub": command["sub"]})
            elif op == "raw":
                client.send_frame(OP_BINARY, bytes.fromhex(command["hex"]))
            elif op == "recv":
                for _ in range(command.get("count", 1)):
                    emit(client.receive(command.get("timeout", 10)))
            elif op == "silence":
                client.answer_pings = False
                emit({"type": "silent"})
            elif op == "wait_close":
                while True:
                    emit(client.receive(command.get("timeout", 60)))
            elif op == "quit":
                return 0
        except Closed as closed:
            emit({"type": "closed", "code": closed.code, "pings": client.pings})
            return 0
        except (socket.timeout, TimeoutError):
            emit({"type": "timeout", "pings": client.pings})
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", required=True, help="the relay, ws://host:port")
    arguments = parser.parse_args()
    return drive(arguments.url)


if __name__ == "__main__":
    sys.exit(main())
