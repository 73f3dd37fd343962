#!/usr/bin/env python3
"""Writes vectors.json: Nostr events signed by an implementation independent of Martlet.

The id preimage is built here by hand, as NIP-01 words it:

    [0,<pubkey>,<created_at>,<kind>,<tags>,<content>]

UTF-8, no whitespace, and these seven characters escaped: line break (\\n), double quote
(\\"), backslash (\\\\), carriage return (\\r), tab (\\t), backspace (\\b) and form feed
(\\f). The other C0 controls (0x00-0x1f) are written \\u00XX in lower-case hex: NIP-01's
text says "verbatim", but rust-nostr, nostr-tools and go-nostr all hash them escaped, and
an id nobody else computes is useless (see generate_c0_vectors.py, signed by nostr-sdk).
Everything else, DEL and C1 included, is verbatim. The result is cross-checked against
Python's json.dumps, which spells strings the same way. The id is its SHA-256, signed with
BIP-340 Schnorr by coincurve.

The event JSON is written by Python's own json module (a second, independent
serializer): "json" is the canonical spelling Martlet also produces (fixed key order, no
whitespace, other control characters as \\u00XX), "json_ascii" a legal but different
spelling of the same event (sorted keys, indentation, every non-ASCII character as a
\\u escape, surrogate pairs for characters outside the BMP).

Keys and auxiliary randomness are derived from fixed strings, so the output is the same
on every run. Run once and commit the result; the Swift tests never run Python:

    pip install coincurve
    python3 Tests/NostrCoreTests/Fixtures/generate_vectors.py
"""

import hashlib
import json
import os

from coincurve import PrivateKey, PublicKeyXOnly

NIP01_ESCAPES = {
    "\n": "\\n",
    '"': '\\"',
    "\\": "\\\\",
    "\r": "\\r",
    "\t": "\\t",
    "\b": "\\b",
    "\f": "\\f",
}


def escaped(ch: str) -> str:
    if ch in NIP01_ESCAPES:
        return NIP01_ESCAPES[ch]
    if ord(ch) < 0x20:
        return f"\\u{ord(ch):04x}"
    return ch


def nip01_string(value: str) -> str:
    return '"' + "".join(escaped(ch) for ch in value) + '"'


def id_preimage(pubkey: str, created_at: int, kind: int, tags, content: str) -> bytes:
    tags_text = "[" + ",".join("[" + ",".join(nip01_string(f) for f in tag) + "]" for tag in tags) + "]"
    text = "[0," + nip01_string(pubkey) + "," + str(created_at) + "," + str(kind) + "," + tags_text + "," \
        + nip01_string(content) + "]"
    return text.encode("utf-8")


def secret_key(index: int) -> PrivateKey:
    return PrivateKey(hashlib.sha256(f"martlet test key {index}".encode()).digest())


def hexid(i: int) -> str:
    return hashlib.sha256(f"referenced event {i}".encode()).hexdigest()


KEYS = [secret_key(i) for i in range(5)]
PUBKEYS = [k.public_key_xonly.format().hex() for k in KEYS]

BASE_TIME = 1_700_000_000

# (name, key index, created_at, kind, tags, content)
CASES = [
    ("plain text note", 0, BASE_TIME, 1, [], "hello nostr"),
    ("empty content and empty tags", 0, BASE_TIME + 1, 1, [], ""),
    ("emoji", 1, BASE_TIME + 2, 1, [], "gm 🤙 ☕️ 🏳️‍🌈 👩🏽‍💻"),
    ("line break escape", 0, BASE_TIME + 3, 1, [], "line one\nline two\n"),
    ("double quote escape", 0, BASE_TIME + 4, 1, [], 'she said "gm"'),
    ("backslash escape", 0, BASE_TIME + 5, 1, [], "C:\\nostr\\path \\u0041 is not an escape"),
    ("carriage return escape", 0, BASE_TIME + 6, 1, [], "windows\r\nline"),
    ("tab escape", 0, BASE_TIME + 7, 1, [], "col1\tcol2\t"),
    ("backspace escape", 0, BASE_TIME + 8, 1, [], "oops\b!"),
    ("form feed escape", 0, BASE_TIME + 9, 1, [], "page\fbreak"),
    ("every NIP-01 escape together", 2, BASE_TIME + 10, 1, [["t", "a\nb\"c\\d\re\tf\bg\fh"]],
     "\n\"\\\r\t\b\f end"),
    ("other control characters as \\u00XX", 2, BASE_TIME + 11, 1, [],
     "nul\x00 soh\x01 vt\x0b so\x0e us\x1f esc\x1b"),
    ("every control character 0x00-0x1f and DEL", 2, BASE_TIME + 12, 1, [],
     "".join(chr(c) for c in range(0x20)) + "\x7f"),
    ("control characters in tags", 2, BASE_TIME + 13, 1, [["x", "\x00\x01\x02", "\x1f"], ["y", "\x7f"]], "ctl"),
    ("non-BMP characters", 3, BASE_TIME + 14, 1, [["emoji", "😀", "🜁"]], "𝄞 music, 𐍈 gothic, 🀄 mahjong, 😀"),
    ("BMP scripts and combining marks", 3, BASE_TIME + 15, 1, [],
     "日本語 한국어 العربية עברית e\u0301 Z\u0351\u0362"),
    ("line and paragraph separators verbatim", 3, BASE_TIME + 16, 1, [], "a\u2028b\u2029c\u0085d"),
    ("byte order mark and replacement character", 3, BASE_TIME + 17, 1, [], "\ufeffbom \ufffd \uffff"),
    ("solidus and html are not escaped", 3, BASE_TIME + 18, 1, [], "</script> <b>&amp;</b> http://a/b"),
    ("long content", 4, BASE_TIME + 19, 1, [], "nostr " * 2000),
    ("many tags", 4, BASE_TIME + 20, 1,
     [["e", hexid(i), "wss://relay.example.com", "root" if i == 0 else "reply"] for i in range(20)]
     + [["p", PUBKEYS[i % 5]] for i in range(20)]
     + [["t", f"topic{i}"] for i in range(20)], "a thread"),
    ("single-element and empty-string tags", 4, BASE_TIME + 21, 1, [["-"], [""], ["t", ""], ["", "x"]], "odd tags"),
    ("upper-case letter tags", 4, BASE_TIME + 22, 1, [["E", hexid(1)], ["P", PUBKEYS[1]], ["K", "1"]], "upper"),
    ("metadata kind 0 with JSON content", 1, BASE_TIME + 23, 0, [],
     json.dumps({"name": "alice", "about": "says \"hi\"\nand more", "picture": "https://example.com/a.png"},
                separators=(",", ":"))),
    ("kind 2 regular", 1, BASE_TIME + 24, 2, [], "wss://relay.example.com"),
    ("contacts kind 3 replaceable", 1, BASE_TIME + 25, 3,
     [["p", PUBKEYS[i], "wss://relay.example.com", f"pet{i}"] for i in range(5)], ""),
    ("kind 4 regular, lowest of 4..<45", 1, BASE_TIME + 26, 4, [["p", PUBKEYS[2]]], "ciphertext?iv=abc"),
    ("deletion kind 5", 1, BASE_TIME + 27, 5, [["e", hexid(3)], ["k", "1"]], "posted by mistake"),
    ("reaction kind 7", 1, BASE_TIME + 28, 7, [["e", hexid(4)], ["p", PUBKEYS[0]]], "+"),
    ("kind 44 regular, highest of 4..<45", 2, BASE_TIME + 29, 44, [], "44"),
    ("kind 45 unassigned", 2, BASE_TIME + 30, 45, [], "45"),
    ("kind 999 unassigned", 2, BASE_TIME + 31, 999, [], "999"),
    ("kind 1000 regular", 2, BASE_TIME + 32, 1000, [], "1000"),
    ("kind 9999 regular", 2, BASE_TIME + 33, 9999, [], "9999"),
    ("kind 10000 replaceable", 3, BASE_TIME + 34, 10000, [], "10000"),
    ("kind 10002 relay list", 3, BASE_TIME + 35, 10002,
     [["r", "wss://a.example.com"], ["r", "wss://b.example.com", "read"]], ""),
    ("kind 19999 replaceable", 3, BASE_TIME + 36, 19999, [], "19999"),
    ("kind 20000 ephemeral", 3, BASE_TIME + 37, 20000, [], "20000"),
    ("kind 22242 auth", 3, BASE_TIME + 38, 22242,
     [["relay", "wss://relay.example.com/"], ["challenge", "c4a1"]], ""),
    ("kind 29999 ephemeral", 4, BASE_TIME + 39, 29999, [], "29999"),
    ("kind 30000 addressable", 4, BASE_TIME + 40, 30000, [["d", "people"]], "30000"),
    ("kind 30023 long-form with d tag and address", 4, BASE_TIME + 41, 30023,
     [["d", "my:article:with:colons"], ["title", "Nostr"],
      ["a", f"30023:{PUBKEYS[1]}:other", "wss://relay.example.com"], ["a", f"10002:{PUBKEYS[2]}:"]],
     "# Title\n\nBody with **markdown**."),
    ("kind 39999 addressable without d tag", 4, BASE_TIME + 42, 39999, [], "39999"),
    ("kind 40000 unassigned", 4, BASE_TIME + 43, 40000, [], "40000"),
    ("kind 65535 highest kind", 4, 1, 65535, [], "65535"),
    ("created_at zero", 0, 0, 1, [], "epoch"),
    ("created_at 2^53-1", 0, 9_007_199_254_740_991, 1, [], "far future"),
    ("expiration and protected tags", 0, BASE_TIME + 44, 1, [["expiration", "1700003600"], ["-"]], "protected"),
]


def make_vector(index: int, case) -> dict:
    name, key_index, created_at, kind, tags, content = case
    key = KEYS[key_index]
    pubkey = PUBKEYS[key_index]
    preimage = id_preimage(pubkey, created_at, kind, tags, content)
    assert preimage == json.dumps([0, pubkey, created_at, kind, tags, content],
                                  ensure_ascii=False, separators=(",", ":")).encode("utf-8"), name
    digest = hashlib.sha256(preimage).digest()
    aux = hashlib.sha256(f"martlet aux {index}".encode()).digest()
    sig = key.sign_schnorr(digest, aux)
    assert PublicKeyXOnly(bytes.fromhex(pubkey)).verify(sig, digest)
    event = {
        "id": digest.hex(),
        "pubkey": pubkey,
        "created_at": created_at,
        "kind": kind,
        "tags": tags,
        "content": content,
        "sig": sig.hex(),
    }
    return {
        "name": name,
        "secret": key.secret.hex(),
        "pubkey": pubkey,
        "created_at": created_at,
        "kind": kind,
        "tags": tags,
        "content": content,
        "preimage_hex": preimage.hex(),
        "id": digest.hex(),
        "sig": sig.hex(),
        "json": json.dumps(event, ensure_ascii=False, separators=(",", ":")),
        "json_ascii": json.dumps(event, ensure_ascii=True, sort_keys=True, indent=1),
    }


def main() -> None:
    vectors = [make_vector(i, case) for i, case in enumerate(CASES)]
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "vectors.json")
    with open(path, "w", encoding="utf-8") as out:
        json.dump({"generator": "coincurve " + __import__("coincurve").__version__, "vectors": vectors},
                  out, ensure_ascii=False, indent=1)
        out.write("\n")
    print(f"wrote {len(vectors)} vectors to {path}")


if __name__ == "__main__":
    main()
