#!/usr/bin/env python3
"""Writes c0_vectors.json: events with control characters, signed by rust-nostr's nostr-sdk.

Martlet once hashed the C0 controls outside NIP-01's seven named escapes as raw bytes, as
NIP-01's text reads, and so refused every event a real client signed with one of them:
rust-nostr (serde_json), nostr-tools (JSON.stringify) and go-nostr write them as \\u00XX
in lower-case hex when they compute the id. These vectors are signed by nostr-sdk (PyPI,
the uniffi bindings of rust-nostr), so the id and signature are what a real client sends:

  - one event per C0 character 0x00-0x1f, in the content and in a tag, and one for DEL
    (0x7f), which serde_json leaves verbatim;
  - a few mixed ones: the issue's "c0: \\x01 \\x02 end", every C0 character with DEL, the
    named escapes next to \\u00XX ones, and controls beside non-ASCII text.

For each, "json" is nostr-sdk's own as_json() (the canonical spelling Martlet also sends)
and "preimage_hex" the serialization [0,pubkey,created_at,kind,tags,content] written by
Python's json module, checked here to hash to nostr-sdk's id. nostr-sdk signs with fresh
auxiliary randomness, so the signatures change on every run; ids do not. Run once and
commit the result; the Swift tests never run Python:

    python3 -m pip install nostr-sdk
    python3 Tests/NostrCoreTests/Fixtures/generate_c0_vectors.py
"""

import hashlib
import importlib.metadata
import json
import os

from nostr_sdk import EventBuilder, Keys, Kind, SecretKey, Tag, Timestamp

KEYS = Keys(SecretKey.parse(hashlib.sha256(b"martlet c0 key").hexdigest()))
BASE_TIME = 1_700_100_000


def cases():
    for code in range(0x20):
        ch = chr(code)
        yield f"C0 0x{code:02x}", 1, [["t", f"tag {ch} 0x{code:02x}"]], f"c0 0x{code:02x}: {ch} end"
    yield "DEL 0x7f", 1, [["t", "del \x7f"]], "del: \x7f end"
    yield "the issue's c0: \\x01 \\x02 end", 1, [], "c0: \x01 \x02 end"
    yield "every C0 character and DEL", 1, [], "".join(chr(c) for c in range(0x20)) + "\x7f"
    yield "named escapes next to \\u00XX ones", 1, [["t", "\n\x0b\t\x0e\"\x1f\\"]], \
        "a\nb\x0bc\rd\x1be\tf\x00g\bh\x7fi\fj\"k\\l"
    yield "controls beside non-ASCII", 30023, [["d", "art\x1ecle"], ["title", "é\x01😀"]], \
        "日本\x02語 😀\x1f é\u2028\x7f\u0085"
    yield "controls in several tag fields", 1, [["x", "\x00", "\x01\x02", "\x1f"], ["y", ""], ["\x03"]], ""


def make_vector(index: int, case) -> dict:
    name, kind, tags, content = case
    created_at = BASE_TIME + index
    event = EventBuilder(Kind(kind), content) \
        .tags([Tag.parse(tag) for tag in tags]) \
        .custom_created_at(Timestamp.from_secs(created_at)) \
        .finalize(KEYS)
    assert event.verify(), name
    assert event.content() == content, name
    assert [tag.to_vec() for tag in event.tags()] == tags, name
    pubkey = KEYS.public_key().to_hex()
    preimage = json.dumps([0, pubkey, created_at, kind, tags, content],
                          ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    assert hashlib.sha256(preimage).hexdigest() == event.id().to_hex(), name
    return {
        "name": name,
        "pubkey": pubkey,
        "created_at": created_at,
        "kind": kind,
        "tags": tags,
        "content": content,
        "preimage_hex": preimage.hex(),
        "id": event.id().to_hex(),
        "sig": event.signature(),
        "json": event.as_json(),
    }


def main() -> None:
    vectors = [make_vector(i, case) for i, case in enumerate(cases())]
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "c0_vectors.json")
    with open(path, "w", encoding="utf-8") as out:
        json.dump({"generator": "nostr-sdk " + importlib.metadata.version("nostr-sdk"), "vectors": vectors},
                  out, ensure_ascii=False, indent=1)
        out.write("\n")
    print(f"wrote {len(vectors)} vectors to {path}")


if __name__ == "__main__":
    main()
