#!/usr/bin/env python3
"""A WebSocket client of a few lines with permessage-deflate (RFC 7692), to check that the
relay agrees to compression when offered and not otherwise, and that compressed messages
travel both ways. Standard library only (socket, zlib).

usage: deflate_client.py <port> <offer|plain> <event-json>
Prints one line per finding; exits non-zero on the first thing that is wrong."""
import base64, json, os, socket, struct, sys, zlib

port, mode, event_json = int(sys.argv[1]), sys.argv[2], sys.argv[3]
offer = mode == "offer"
event = json.loads(event_json)


def fail(why):
    print("FAIL: " + why)
    sys.exit(1)


sock = socket.create_connection(("127.0.0.1", port), timeout=20)
key = base64.b64encode(os.urandom(16)).decode()
request = (
    "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
)
if offer:
    request += "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n"
sock.sendall((request + "\r\n").encode())

buffer = b""
while b"\r\n\r\n" not in buffer:
    chunk = sock.recv(4096)
    if not chunk:
        fail("closed during the handshake")
    buffer += chunk
head, buffer = buffer.split(b"\r\n\r\n", 1)
lines = head.decode().split("\r\n")
if " 101 " not in lines[0]:
    fail("no upgrade: " + lines[0])
extensions = [l.split(":", 1)[1].strip() for l in lines[1:] if l.lower().startswith("sec-websocket-extensions:")]
agreed = any(e.startswith("permessage-deflate") for e in extensions)
print("agreed" if agreed else "not agreed")
if agreed != offer:
    fail(f"offered={offer} but extensions={extensions}")

compressor = zlib.compressobj(wbits=-15)
decompressor = zlib.decompressobj(wbits=-15)


def send(text):
    payload = text.encode()
    first = 0x81
    if agreed:
        payload = compressor.compress(payload) + compressor.flush(zlib.Z_SYNC_FLUSH)
        payload = payload[:-4]  # RFC 7692 7.2.1: the final 00 00 ff ff is left off
        first |= 0x40  # RSV1: this message is compressed
    mask = os.urandom(4)
    masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    length = len(payload)
    if length < 126:
        header = struct.pack("!BB", first, 0x80 | length)
    elif length < 65536:
        header = struct.pack("!BBH", first, 0x80 | 126, length)
    else:
        header = struct.pack("!BBQ", first, 0x80 | 127, length)
    sock.sendall(header + mask + masked)


def receive():
    """The next text message: (compressed?, text)."""
    global buffer
    while True:
        while len(buffer) < 2:
            buffer += sock.recv(65536)
        first, second = buffer[0], buffer[1]
        length, offset = second & 0x7F, 2
        if length == 126:
            while len(buffer) < 4:
                buffer += sock.recv(65536)
            length, offset = struct.unpack("!H", buffer[2:4])[0], 4
        elif length == 127:
            while len(buffer) < 10:
                buffer += sock.recv(65536)
            length, offset = struct.unpack("!Q", buffer[2:10])[0], 10
        while len(buffer) < offset + length:
            buffer += sock.recv(65536)
        payload, buffer = buffer[offset:offset + length], buffer[offset + length:]
        opcode = first & 0x0F
        if opcode == 0x9:  # ping: answer it, keep reading
            sock.sendall(struct.pack("!BB", 0x8A, 0x80 | len(payload)) + b"\0\0\0\0" + payload)
            continue
        if opcode != 0x1:
            fail(f"unexpected opcode {opcode}")
        compressed = bool(first & 0x40)
        if compressed:
            if not agreed:
                fail("a compressed frame without the extension agreed")
            payload = decompressor.decompress(payload + b"\x00\x00\xff\xff")
        return compressed, payload.decode()


send(json.dumps(["EVENT", event]))
_, text = receive()
answer = json.loads(text)
if answer[:3] != ["OK", event["id"], True]:
    fail("EVENT not accepted: " + text)
print("published")

send(json.dumps(["REQ", "s", {"ids": [event["id"]]}]))
compressed, text = receive()
message = json.loads(text)
if message[0] != "EVENT" or message[2]["id"] != event["id"]:
    fail("expected the event back: " + text)
print("event compressed" if compressed else "event plain")
if offer and not compressed:
    fail("a large event came back uncompressed on a compressing connection")
_, text = receive()
if json.loads(text)[0] != "EOSE":
    fail("expected EOSE: " + text)
print("ok")
