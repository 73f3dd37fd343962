#!/usr/bin/env python3
"""Independent-client interop check for Martlet, driven by rust-nostr's `nostr-sdk`.

Martlet's own tests are written by the same hands as the relay; this script checks
the relay from the outside with a client library nobody here wrote (PyPI `nostr-sdk`,
the uniffi bindings of rust-nostr, 0.45.x), and NIP-EE with a real RFC 9420 MLS
implementation (PyPI `agentvault-mls-rs-uniffi`, the uniffi bindings of AWS's mls-rs).

Usage:
    python3 scripts/interop_nostr_sdk.py --martlet .build/debug/martlet
    python3 scripts/interop_nostr_sdk.py --url ws://127.0.0.1:7777

With --martlet the script starts `martlet serve --host 127.0.0.1 --port 0 --data <tmp>`
with NIP-EE on (`features.mls`, a short group-event retention, a purge every second), waits for the stdout line `listening on ws://127.0.0.1:<port>`, runs the checks, then
sends SIGTERM and requires exit status 0 within 15 s. With --url it tests a relay that
is already running (127.0.0.1 only). Every check prints `interop: PASS <name>` or
`interop: FAIL <name>: <why>`; the exit status is non-zero if any check fails.
--verbose prints every frame the relay sends to the script's clients (on stderr).

Wherever a check needs to see what the relay actually put on the wire (order, count,
EOSE), it reads the relay's frames from nostr-sdk's notification stream rather than
from `fetch_events`, which collects events into a de-duplicated set that it re-sorts
newest first, and so would hide a relay's ordering mistakes.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import http.client
import json
import os
import re
import signal
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from datetime import timedelta
from typing import Awaitable, Callable

import mls_rs_uniffi as mls
from nostr_sdk import (
    Client,
    ClientBuilder,
    ClientMessage,
    Event,
    EventBuilder,
    EventId,
    Filter,
    Keys,
    Kind,
    Nip44Version,
    NostrLmdb,
    ReqExitPolicy,
    ReqTarget,
    RelayUrl,
    SignerAuthenticator,
    SubscribeAutoCloseOptions,
    SyncDirection,
    SyncOptions,
    Tag,
    Timestamp,
    UnwrappedGift,
    nip17_make_private_msg,
    nip44_decrypt,
    nip44_encrypt,
    nip59_make_gift_wrap,
    uniffi_set_event_loop,
)

STARTUP_TIMEOUT = 60.0   # seconds to wait for "listening on ..."
RUN_BUDGET = 100.0       # all checks together
CHECK_TIMEOUT = 15.0     # any single check but those below
SLOW_CHECKS = {"nip-ee-mls": 50.0}  # waits for a group event's retention to end
MLS_RETENTION = 30       # mls.group_event_retention of the relay the script starts
SHUTDOWN_TIMEOUT = 15.0  # SIGTERM -> exit 0
LIVE_TIMEOUT = 5.0       # a published event must reach a live subscriber within this
RELAY_REPLY = 5.0        # OK / EOSE / connection replies

LISTENING = re.compile(r"listening on (ws://127\.0\.0\.1:(\d+))")
VERBOSE = False


class CheckFailed(Exception):
    """A check's expectation did not hold; the message says what the relay did."""


def require(condition: bool, why: str) -> None:
    if not condition:
        raise CheckFailed(why)


def log(text: str) -> None:
    if VERBOSE:
        print(text, file=sys.stderr, flush=True)


def short(event_id: str) -> str:
    return event_id[:12]


# --------------------------------------------------------------------------------------
# The relay under test
# --------------------------------------------------------------------------------------


class MartletProcess:
    """`martlet serve` on 127.0.0.1 with an ephemeral port and a throwaway data dir."""

    def __init__(self, binary: str) -> None:
        self.binary = binary
        self.proc: asyncio.subprocess.Process | None = None
        self.data_dir = tempfile.TemporaryDirectory(prefix="martlet-interop-")
        self.stderr_file = tempfile.TemporaryFile()
        self.stdout_lines: list[str] = []
        self._drain: asyncio.Task | None = None

    def stderr_tail(self, lines: int = 30) -> str:
        self.stderr_file.flush()
        self.stderr_file.seek(0)
        text = self.stderr_file.read().decode("utf-8", "replace")
        tail = "\n".join(text.rstrip("\n").splitlines()[-lines:])
        return tail or "(stderr empty)"

    async def start(self) -> str:
        """Start the relay and return its ws:// URL once it says it is listening."""
        self.proc = await asyncio.create_subprocess_exec(
            self.binary, "serve", "--host", "127.0.0.1", "--port", "0",
            "--data", self.data_dir.name,
            env={**os.environ, "MARTLET_FEATURES_MLS": "true",
                 "MARTLET_MLS_GROUP_EVENT_RETENTION": str(MLS_RETENTION),
                 "MARTLET_STORAGE_PURGE_INTERVAL": "1"},
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=self.stderr_file,
        )
        assert self.proc.stdout is not None
        try:
            async with asyncio.timeout(STARTUP_TIMEOUT):
                while True:
                    raw = await self.proc.stdout.readline()
                    if not raw:
                        status = await self.proc.wait()
                        raise RuntimeError(
                            f"martlet exited with status {status} before printing "
                            f"'listening on ws://127.0.0.1:<port>'; stdout: "
                            f"{self.stdout_lines[-10:]!r}; stderr:\n{self.stderr_tail()}")
                    line = raw.decode("utf-8", "replace").rstrip("\r\n")
                    self.stdout_lines.append(line)
                    log(f"[martlet stdout] {line}")
                    match = LISTENING.search(line)
                    if match:
                        break
        except TimeoutError:
            await self.kill()
            raise RuntimeError(
                f"martlet did not print 'listening on ws://127.0.0.1:<port>' within "
                f"{STARTUP_TIMEOUT:.0f} s; stdout: {self.stdout_lines[-10:]!r}; "
                f"stderr:\n{self.stderr_tail()}") from None
        # Keep reading stdout so a chatty relay never blocks on a full pipe.
        self._drain = asyncio.create_task(self._drain_stdout())
        return match.group(1)

    async def _drain_stdout(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        while raw := await self.proc.stdout.readline():
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            self.stdout_lines.append(line)
            log(f"[martlet stdout] {line}")

    async def stop(self) -> None:
        """SIGTERM, then require exit status 0 within SHUTDOWN_TIMEOUT."""
        assert self.proc is not None
        if self.proc.returncode is not None:
            raise CheckFailed(f"martlet had already exited with status "
                              f"{self.proc.returncode}; stderr:\n{self.stderr_tail()}")
        self.proc.send_signal(signal.SIGTERM)
        started = time.monotonic()
        try:
            async with asyncio.timeout(SHUTDOWN_TIMEOUT):
                status = await self.proc.wait()
            log(f"martlet exited with status {status} {time.monotonic() - started:.1f} s "
                f"after SIGTERM")
        except TimeoutError:
            await self.kill()
            raise CheckFailed(f"martlet still running {SHUTDOWN_TIMEOUT:.0f} s after "
                              f"SIGTERM (killed); stderr:\n{self.stderr_tail()}") from None
        finally:
            if self._drain is not None:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(self._drain, 2)
        how = (f"died of signal {signal.Signals(-status).name}" if status < 0
               else f"exited with status {status}")
        require(status == 0, f"sent SIGTERM, martlet {how} (expected a graceful exit 0); "
                             f"stderr:\n{self.stderr_tail()}")

    async def kill(self) -> None:
        if self.proc is not None and self.proc.returncode is None:
            self.proc.kill()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.proc.wait(), 5)

    def cleanup(self) -> None:
        self.stderr_file.close()
        with contextlib.suppress(Exception):
            self.data_dir.cleanup()


# --------------------------------------------------------------------------------------
# nostr-sdk helpers
# --------------------------------------------------------------------------------------


class Session:
    """What every check needs: the relay URL, and state handed from check to check."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.relay_url = RelayUrl.parse(url)
        self.first_note: tuple[Keys, Event] | None = None  # set by check_publish


@contextlib.asynccontextmanager
async def connected(session: Session, name: str, database: NostrLmdb | None = None,
                    auth: Keys | None = None):
    """A fresh nostr-sdk Client connected to the relay under test, shut down afterwards.

    Each use gets its own client, so nothing a client cached or de-duplicated earlier
    can stand in for what the relay answers now. With `database`, the client keeps its
    events there (what `Client.sync` reconciles against); without, it keeps none. With
    `auth`, the client answers the relay's NIP-42 challenges as those keys by itself
    (nostr-sdk's automatic authentication) and repeats a REQ closed `auth-required:`.
    """
    builder = ClientBuilder()
    if database is not None:
        builder = builder.database(database)
    if auth is not None:
        # The authenticator is Python calling back into Rust's event loop.
        uniffi_set_event_loop(asyncio.get_running_loop())
        builder = builder.authenticator(SignerAuthenticator(auth))
    client = builder.build()
    spy: asyncio.Task | None = None
    try:
        await client.add_relay(session.relay_url)
        if VERBOSE:
            spy = asyncio.create_task(_print_frames(client, name))
        output = await client.try_connect(timedelta(seconds=RELAY_REPLY))
        require(len(output.success) == 1 and not output.failed,
                f"{name}: could not connect to {session.url}: {output.failed}")
        yield client
    finally:
        if spy is not None:
            await asyncio.sleep(0.1)  # let the spy print the last frames
            spy.cancel()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(client.shutdown(), 5)


async def _print_frames(client: Client, name: str) -> None:
    """--verbose: print every frame the relay sends to this client."""
    stream = client.notifications()
    while (item := await stream.next()) is not None:
        if item.is_message():
            log(f"  [{name}] <- {item.message.as_json()}")


def signed(keys: Keys, content: str, created_at: int | None = None,
           kind: int = 1, tags: list[Tag] | None = None) -> Event:
    """An event built and signed by nostr-sdk (kind 1 unless told otherwise)."""
    builder = EventBuilder(Kind(kind), content).tags(tags or [])
    if created_at is not None:
        builder = builder.custom_created_at(Timestamp.from_secs(created_at))
    return builder.finalize(keys)


async def publish(client: Client, event: Event) -> tuple[bool, str]:
    """Send an EVENT and return (accepted, reason) from the relay's OK."""
    log(f"  -> EVENT {event.as_json()}")
    output = await client.send_event(event, ok_timeout=timedelta(seconds=RELAY_REPLY))
    if output.success:
        return True, ""
    return False, "; ".join(output.failed.values()) or "no OK received"


async def publish_ok(client: Client, event: Event, what: str) -> None:
    accepted, reason = await publish(client, event)
    require(accepted, f"{what} {short(event.id().to_hex())} refused: {reason!r}")


async def req_frames(session: Session, filters: list[Filter], label: str) -> list[Event]:
    """Send one REQ on a fresh connection and return the EVENTs exactly as the relay
    sent them before EOSE (wire order, no de-duplication, no client-side limit).

    NIP-01: `["EOSE", <subscription_id>]`, used to indicate the _end of stored events_.
    """
    sub_id = f"{label}-{uuid.uuid4().hex[:8]}"
    events: list[Event] = []
    async with connected(session, f"req {label}") as client:
        stream = client.notifications()  # subscribe to notifications before the REQ
        close_on = SubscribeAutoCloseOptions().exit_policy(ReqExitPolicy.EXIT_ON_EOSE())
        log(f"  -> REQ {sub_id} {', '.join(f.as_json() for f in filters)}")
        await client.subscribe(ReqTarget.auto(filters), sub_id, close_on)
        try:
            async with asyncio.timeout(RELAY_REPLY):
                while True:
                    item = await stream.next()
                    require(item is not None, "notification stream ended before EOSE")
                    if not item.is_message():
                        continue
                    msg = item.message.as_enum()
                    if msg.is_event_msg() and msg.subscription_id == sub_id:
                        events.append(msg.event)
                    elif msg.is_end_of_stored_events() and msg.subscription_id == sub_id:
                        return events
                    elif msg.is_closed() and msg.subscription_id == sub_id:
                        raise CheckFailed(f"REQ {sub_id} answered with CLOSED: {msg.message!r}")
        except TimeoutError:
            raise CheckFailed(f"no EOSE for REQ {sub_id} within {RELAY_REPLY:.0f} s "
                              f"({len(events)} EVENT frames received)") from None


def ids(events: list[Event]) -> list[str]:
    return [e.id().to_hex() for e in events]


def describe(events: list[Event]) -> str:
    return "[" + ", ".join(f"{short(e.id().to_hex())}@{e.created_at().as_secs()}"
                           for e in events) + "]"


# --------------------------------------------------------------------------------------
# Checks
# --------------------------------------------------------------------------------------


async def check_publish(session: Session) -> None:
    """A kind-1 note signed by nostr-sdk keys is accepted.

    NIP-01: `OK` messages MUST be sent in response to `EVENT` messages received from
    clients, they must have the 3rd parameter set to `true` when an event has been
    accepted by the relay.
    """
    keys = Keys.generate()
    event = signed(keys, "martlet interop: hello from rust-nostr",
                 tags=[Tag.parse(["t", "martlet-interop"])])
    async with connected(session, "publisher") as client:
        await publish_ok(client, event, "kind-1 note")
    session.first_note = (keys, event)


async def check_query(session: Session) -> None:
    """fetch_events by author and kind returns exactly the published event, and
    nostr-sdk's own id + signature verification of what came back passes.

    NIP-01: "authors": a list of lowercase pubkeys, the pubkey of an event must be one
    of these; "kinds": a list of a kind numbers. All conditions of a filter that are
    specified must match.
    """
    require(session.first_note is not None, "no event from the publish check to query")
    keys, sent = session.first_note
    flt = Filter().author(keys.public_key()).kind(Kind(1))
    async with connected(session, "reader") as client:
        log(f"  -> REQ (fetch_events) {flt.as_json()}")
        got = await client.fetch_events(ReqTarget.auto([flt]),
                                        timeout=timedelta(seconds=RELAY_REPLY))
    require(len(got) == 1, f"expected exactly 1 event, got {len(got)}: {describe(got)}")
    event = got[0]
    require(event.id().to_hex() == sent.id().to_hex(),
            f"returned id {event.id().to_hex()} != published {sent.id().to_hex()}")
    require(event.verify(), "returned event fails nostr-sdk id/signature verification")
    require(json.loads(event.as_json()) == json.loads(sent.as_json()),
            f"returned event differs from the published one: {event.as_json()}")


async def check_control_characters(session: Session) -> None:
    """Notes whose content and tags hold C0 control characters are accepted and come
    back unchanged.

    NIP-01 names seven escapes; rust-nostr (like nostr-tools and go-nostr) writes the
    other C0 controls as \\u00XX in lower-case hex when it computes the id, so a relay
    that hashes them any other way answers `invalid:` to real clients.
    """
    keys = Keys.generate()
    now = int(time.time())
    every_c0 = "".join(chr(code) for code in range(0x20)) + "\x7f"
    notes = [signed(keys, "c0: \x01 \x02 end", created_at=now - 2),
             signed(keys, f"martlet interop: every C0 {every_c0} end", created_at=now - 1,
                    tags=[Tag.parse(["t", "c0 \x00\x1b\x1f"])])]
    async with connected(session, "control publisher") as client:
        for note in notes:
            await publish_ok(client, note, "note with control characters")
    got = await req_frames(session, [Filter().author(keys.public_key())], "controls")
    require(sorted(ids(got)) == sorted(ids(notes)),
            f"expected both notes back, got {describe(got)}")
    for event in got:
        require(event.verify(), f"{short(event.id().to_hex())} fails nostr-sdk verification")
        sent = next(note for note in notes if note.id().to_hex() == event.id().to_hex())
        require(event.as_json() == sent.as_json(),
                f"returned event differs from the published one: {event.as_json()!r}")


async def check_newest_first_limit(session: Session) -> None:
    """Five notes with distinct created_at (sent out of order); limit 3 -> the 3 newest,
    newest first, and no more than 3 EVENT frames before EOSE.

    NIP-01: When `limit: n` is present it is assumed that the events returned in the
    initial query will be the last `n` events ordered by the `created_at`. Newer events
    should appear first.
    """
    keys = Keys.generate()
    now = int(time.time())
    notes = [signed(keys, f"martlet interop: note {i}", created_at=now - 3000 + 600 * i)
             for i in range(5)]  # now-3000 ... now-600, all within the last hour
    async with connected(session, "publisher") as client:
        for i in (2, 0, 4, 1, 3):  # arrival order differs from created_at order
            await publish_ok(client, notes[i], f"note {i}")
    newest3 = ids(sorted(notes, key=lambda e: e.created_at().as_secs(), reverse=True)[:3])
    flt = Filter().author(keys.public_key()).kind(Kind(1)).limit(3)

    async with connected(session, "reader") as client:
        log(f"  -> REQ (fetch_events) {flt.as_json()}")
        fetched = await client.fetch_events(ReqTarget.auto([flt]),
                                            timeout=timedelta(seconds=RELAY_REPLY))
    require(sorted(ids(fetched)) == sorted(newest3),
            f"fetch_events(limit 3) returned {describe(fetched)}, expected the 3 newest "
            f"{[short(i) for i in newest3]}")

    wire = await req_frames(session, [flt], "limit")
    require(ids(wire) == newest3,
            f"relay sent {describe(wire)} before EOSE, expected exactly the 3 newest "
            f"newest first: {[short(i) for i in newest3]}")


async def check_subscribe(session: Session) -> None:
    """A second client's open subscription receives a matching event live.

    NIP-01: Any new events it receives SHOULD be sent to that same websocket until the
    connection is closed, a `CLOSE` event is received with the same <subscription_id>,
    or a new `REQ` is sent using the same <subscription_id>.
    """
    keys = Keys.generate()
    sub_id = f"live-{uuid.uuid4().hex[:8]}"
    flt = Filter().author(keys.public_key()).kind(Kind(1))
    async with connected(session, "subscriber") as sub, \
            connected(session, "publisher") as pub:
        stream = sub.notifications()
        log(f"  -> REQ {sub_id} {flt.as_json()}")
        await sub.subscribe(ReqTarget.auto([flt]), sub_id)

        async def next_frame():
            while True:
                item = await stream.next()
                require(item is not None, "subscriber's notification stream ended")
                if item.is_message():
                    msg = item.message.as_enum()
                    if getattr(msg, "subscription_id", None) == sub_id:
                        return msg

        try:
            async with asyncio.timeout(RELAY_REPLY):
                msg = await next_frame()
        except TimeoutError:
            raise CheckFailed(f"no EOSE for REQ {sub_id} within {RELAY_REPLY:.0f} s") from None
        require(msg.is_end_of_stored_events(),
                f"expected EOSE for the empty subscription, got {type(msg).__name__}")

        event = signed(keys, "martlet interop: live")
        started = time.monotonic()
        await publish_ok(pub, event, "live note")
        try:
            async with asyncio.timeout(max(0.0, started + LIVE_TIMEOUT - time.monotonic())):
                msg = await next_frame()
        except TimeoutError:
            raise CheckFailed(f"subscriber got no EVENT on {sub_id} within "
                              f"{LIVE_TIMEOUT:.0f} s of publishing") from None
        require(msg.is_event_msg(), f"expected EVENT on {sub_id}, got {type(msg).__name__}: "
                                    f"{getattr(msg, 'message', '')!r}")
        require(msg.event.id().to_hex() == event.id().to_hex(),
                f"live EVENT carried {msg.event.id().to_hex()}, published {event.id().to_hex()}")
        require(msg.event.verify(), "live event fails nostr-sdk id/signature verification")
        log(f"  live delivery after {1000 * (time.monotonic() - started):.0f} ms")


async def check_replaceable(session: Session) -> None:
    """Two kind-0 events from one key, the older sent second: only the newer is served.

    NIP-01: for kind n such that 10000 <= n < 20000 || n == 0 || n == 3, events are
    replaceable, which means that, for each combination of pubkey and kind, only the
    latest event MUST be stored by relays ... When answering to REQ messages for
    replaceable events such as {"kinds":[0],"authors":[<hex-key>]}, even if the relay
    has more than one version stored, it SHOULD return just the latest one.
    """
    keys = Keys.generate()
    now = int(time.time())
    newer = signed(keys, json.dumps({"name": "interop-newer"}), created_at=now - 60, kind=0)
    older = signed(keys, json.dumps({"name": "interop-older"}), created_at=now - 120, kind=0)
    async with connected(session, "publisher") as client:
        await publish_ok(client, newer, "newer kind-0")
        # The relay may answer the stale one with OK true or false; either is lawful.
        accepted, reason = await publish(client, older)
        log(f"  older kind-0: OK {str(accepted).lower()} {reason!r}")
    wire = await req_frames(session, [Filter().author(keys.public_key()).kind(Kind(0))],
                            "replaceable")
    require(ids(wire) == [newer.id().to_hex()],
            f"relay sent {describe(wire)}, expected only the newer kind-0 "
            f"{short(newer.id().to_hex())}@{now - 60} (older is "
            f"{short(older.id().to_hex())}@{now - 120})")


async def check_deletion(session: Session) -> None:
    """A kind-5 deletion of an own note: the note is gone, the deletion is served.

    NIP-09: Relays SHOULD delete or stop publishing any referenced events that have an
    identical `pubkey` as the deletion request. Relays SHOULD continue to publish/share
    the deletion request events indefinitely.
    """
    keys = Keys.generate()
    now = int(time.time())
    victim = signed(keys, "martlet interop: to be deleted", created_at=now - 30)
    deletion = signed(keys, "martlet interop: deleting my note", created_at=now, kind=5,
                    tags=[Tag.event(victim.id()), Tag.parse(["k", "1"])])
    async with connected(session, "publisher") as client:
        await publish_ok(client, victim, "note")
        await publish_ok(client, deletion, "kind-5 deletion")
    by_id = await req_frames(session, [Filter().id(victim.id())], "deleted-id")
    require(not by_id, f"deleted note still served by id: {describe(by_id)}")
    by_author = await req_frames(session, [Filter().author(keys.public_key())], "deleted-author")
    require(ids(by_author) == [deletion.id().to_hex()],
            f"author query returned {describe(by_author)}, expected only the deletion "
            f"event {short(deletion.id().to_hex())}")


async def check_nip11(session: Session) -> None:
    """The NIP-11 document on the WebSocket URL, with CORS.

    NIP-11: When a relay receives an HTTP(s) request with an `Accept` header of
    `application/nostr+json` to a URI supporting WebSocket upgrades, they SHOULD return
    a document ... Relays MUST accept CORS requests by sending
    `Access-Control-Allow-Origin`, `Access-Control-Allow-Headers`, and
    `Access-Control-Allow-Methods` headers.
    """
    parts = urllib.parse.urlsplit(session.url)
    http_url = f"http://{parts.hostname}:{parts.port}/"

    def get() -> tuple[int, dict[str, str], bytes]:
        request = urllib.request.Request(http_url, headers={"Accept": "application/nostr+json"})
        try:
            with urllib.request.urlopen(request, timeout=RELAY_REPLY) as response:
                return response.status, {k.lower(): v for k, v in response.headers.items()}, response.read()
        except urllib.error.HTTPError as error:
            return error.code, {k.lower(): v for k, v in error.headers.items()}, error.read()
        except (OSError, http.client.HTTPException) as error:
            raise CheckFailed(f"GET {http_url} failed: {type(error).__name__}: {error}") from None

    status, headers, body = await asyncio.to_thread(get)
    log(f"  GET {http_url} -> {status} {headers} {body[:300]!r}")
    require(status == 200, f"GET {http_url} returned HTTP {status}: {body[:200]!r}")
    try:
        doc = json.loads(body)
    except ValueError:
        raise CheckFailed(f"body is not JSON: {body[:200]!r}") from None
    require(isinstance(doc, dict), f"document is not a JSON object: {body[:200]!r}")
    nips = doc.get("supported_nips")
    require(isinstance(nips, list) and 1 in nips and 11 in nips,
            f"supported_nips must list 1 and 11, got {nips!r}")
    require(isinstance(doc.get("limitation"), dict),
            f"limitation must be an object, got {doc.get('limitation')!r}")
    require(headers.get("access-control-allow-origin") == "*",
            f"Access-Control-Allow-Origin is {headers.get('access-control-allow-origin')!r}, "
            f"expected '*'")
    for name in ("access-control-allow-headers", "access-control-allow-methods"):
        require(name in headers, f"missing {name} header (NIP-11 MUST)")


async def check_invalid(session: Session) -> None:
    """Forged events are refused with OK false and an `invalid:` reason, and not stored.

    Two forgeries, sent raw (nostr-sdk's ClientMessage.from_json does not verify):
    a valid event whose signature has one hex digit changed, and a signed event whose
    content was changed afterwards (its id no longer matches).

    NIP-01: To obtain the event.id, we sha256 the serialized event ... "sig": 64-bytes
    lowercase hex of the signature of the sha256 hash of the serialized event data,
    which is the same as the "id" field. The standardized machine-readable prefixes for
    OK and CLOSED are: ... invalid ...
    """
    keys = Keys.generate()

    def forged_sig() -> dict:
        doc = json.loads(signed(keys, "martlet interop: forged signature").as_json())
        doc["sig"] = doc["sig"][:-1] + ("0" if doc["sig"][-1] != "0" else "1")
        return doc

    def forged_content() -> dict:
        doc = json.loads(signed(keys, "martlet interop: original content").as_json())
        doc["content"] = "martlet interop: altered content"
        return doc

    async with connected(session, "forger") as client:
        relay = await client.relay(session.relay_url)
        require(relay is not None, "nostr-sdk client has no relay handle")
        for label, doc in (("tampered signature", forged_sig()),
                           ("id does not match content", forged_content())):
            stream = client.notifications()
            frame = json.dumps(["EVENT", doc], separators=(",", ":"))
            log(f"  -> {frame}")
            await relay.send_msg(ClientMessage.from_json(frame))
            try:
                async with asyncio.timeout(RELAY_REPLY):
                    while True:
                        item = await stream.next()
                        require(item is not None, "notification stream ended before OK")
                        if not item.is_message():
                            continue
                        msg = item.message.as_enum()
                        if msg.is_ok() and msg.event_id.to_hex() == doc["id"]:
                            break
                        if msg.is_notice():
                            raise CheckFailed(f"{label}: relay sent NOTICE {msg.message!r} "
                                              f"instead of OK")
            except TimeoutError:
                raise CheckFailed(f"{label}: no OK for {short(doc['id'])} within "
                                  f"{RELAY_REPLY:.0f} s") from None
            require(not msg.status and msg.message.startswith("invalid:"),
                    f"{label}: relay answered [\"OK\",\"{short(doc['id'])}…\","
                    f"{str(msg.status).lower()},{msg.message!r}], expected false + 'invalid:'")
            stored = await req_frames(session, [Filter().id(EventId.parse(doc["id"]))],
                                      "forged")
            require(not stored, f"{label}: refused event is served anyway: {describe(stored)}")


async def check_negentropy_sync(session: Session) -> None:
    """nostr-sdk's `Client.sync` (rust-nostr's own negentropy) against the relay, when
    the client's database and the relay each hold events the other lacks: afterwards
    both hold the union, and the sync moved exactly the difference.

    NIP-77: The above protocol only results in the client learning about IDs it
    has/needs ... Given these IDs, the client can upload events it has with `EVENT`,
    and/or download events it needs with `REQ`.
    """
    # The LMDB handle reaches Rust as a Python-implemented database, whose callbacks
    # need to know the event loop they run on.
    uniffi_set_event_loop(asyncio.get_running_loop())
    keys = Keys.generate()
    now = int(time.time())
    notes = [signed(keys, f"martlet interop: sync {i}", created_at=now - 3600 + 60 * i)
             for i in range(40)]
    relay_only, common, client_only = notes[:4], notes[4:36], notes[36:]
    async with connected(session, "seeder") as client:
        for note in relay_only + common:
            await publish_ok(client, note, "note for the relay")

    flt = Filter().author(keys.public_key())
    with tempfile.TemporaryDirectory(prefix="martlet-interop-lmdb-") as folder:
        database = await NostrLmdb.open(folder)
        for note in common + client_only:
            await database.save_event(note)
        async with connected(session, "syncer", database) as client:
            log(f"  -> NEG-OPEN (Client.sync, both directions) {flt.as_json()}")
            output = await client.sync(flt, opts=SyncOptions().direction(SyncDirection.BOTH))
            local_after = await database.query(flt)
    require(not output.failed, f"Client.sync failed: {output.failed}")
    report = output.report
    sent = sorted(event_id.to_hex() for event_id in report.sent)
    received = sorted(event_id.to_hex() for event_id in report.received)
    require(sent == sorted(ids(client_only)),
            f"Client.sync uploaded {[short(i) for i in sent]}, expected exactly the "
            f"client-only notes {[short(i) for i in ids(client_only)]}")
    require(received == sorted(ids(relay_only)),
            f"Client.sync downloaded {[short(i) for i in received]}, expected exactly the "
            f"relay-only notes {[short(i) for i in ids(relay_only)]}")
    for failures in report.send_failures.values():
        require(not failures, f"relay refused uploads during sync: {failures}")

    union = sorted(ids(notes))
    require(sorted(ids(local_after)) == union,
            f"after sync the client's database holds {len(local_after)} notes, expected "
            f"the union of {len(union)}: {describe(local_after)}")
    on_relay = await req_frames(session, [flt], "synced")
    require(sorted(ids(on_relay)) == union,
            f"after sync the relay serves {len(on_relay)} notes, expected the union of "
            f"{len(union)}: {describe(on_relay)}")


async def check_nip17_direct_messages(session: Session) -> None:
    """A NIP-17 direct message and its answer between two nostr-sdk clients, each
    reading its gift wraps with nostr-sdk's automatic NIP-42 authentication on: the
    relay first answers the reader's REQ `CLOSED "auth-required: ..."` after its
    challenge, the client authenticates by itself and repeats the REQ, and the wrap
    arrives (live to Bob's open subscription, stored for Alice's fetch). A client that
    does not authenticate is refused the same REQ, and the message is not served to it.

    NIP-17: Relays SHOULD protect message metadata by only serving `kind:1059` events
    to users p-tagged on the event (enforced using NIP-42 AUTH).
    NIP-42: relay: ["CLOSED", "sub_1", "auth-required: we can't serve DMs to
    unauthenticated users"] / client: ["AUTH", ...] / client: ["REQ", "sub_1", ...] /
    relay: ["EVENT", "sub_1", {...}]
    """
    alice, bob = Keys.generate(), Keys.generate()
    inbox = Filter().kind(Kind(1059)).pubkey(bob.public_key())

    def unwrapped(wrap: Event, reader: Keys, sender: Keys, text: str) -> None:
        gift = UnwrappedGift.from_gift_wrap(reader, wrap)
        rumor = gift.rumor()
        require(gift.sender().to_hex() == sender.public_key().to_hex(),
                f"the seal inside {short(wrap.id().to_hex())} names another sender")
        require(rumor.kind().as_u16() == 14 and rumor.content() == text,
                f"unwrapped a kind {rumor.kind().as_u16()} rumor {rumor.content()!r}, "
                f"sent a kind-14 {text!r}")

    async with connected(session, "bob", auth=bob) as bob_client, \
            connected(session, "alice", auth=alice) as alice_client:
        stream = bob_client.notifications()
        sub_id = f"dm-{uuid.uuid4().hex[:8]}"
        log(f"  -> REQ {sub_id} {inbox.as_json()} (automatic authentication)")
        await bob_client.subscribe(ReqTarget.auto([inbox]), sub_id)
        seen: list[str] = []

        async def next_frame():
            while True:
                item = await stream.next()
                require(item is not None, "bob's notification stream ended")
                if not item.is_message():
                    continue
                msg = item.message.as_enum()
                if msg.is_auth():
                    seen.append("AUTH")
                elif getattr(msg, "subscription_id", None) == sub_id:
                    seen.append("CLOSED " + msg.message if msg.is_closed()
                                else "EVENT" if msg.is_event_msg() else "EOSE")
                    return msg

        try:
            async with asyncio.timeout(RELAY_REPLY):
                while not (await next_frame()).is_end_of_stored_events():
                    pass
        except TimeoutError:
            raise CheckFailed(f"no EOSE for bob's REQ {sub_id} within {RELAY_REPLY:.0f} s; "
                              f"the relay sent {seen}") from None
        require(len(seen) >= 3 and seen[0] == "AUTH" and seen[1].startswith("CLOSED auth-required:"),
                f"expected AUTH, then CLOSED auth-required:, then (after the client's AUTH) "
                f"EOSE; the relay sent {seen}")

        message = nip17_make_private_msg(alice, bob.public_key(), "martlet interop: hi bob")
        await publish_ok(alice_client, message, "gift-wrapped message to bob")
        try:
            async with asyncio.timeout(LIVE_TIMEOUT):
                msg = await next_frame()
        except TimeoutError:
            raise CheckFailed(f"bob's subscription got no gift wrap within {LIVE_TIMEOUT:.0f} s") from None
        require(msg.is_event_msg() and msg.event.id().to_hex() == message.id().to_hex(),
                f"bob's subscription got {seen[-1]}, expected the wrap {short(message.id().to_hex())}")
        unwrapped(msg.event, bob, alice, "martlet interop: hi bob")

        answer = nip17_make_private_msg(bob, alice.public_key(), "martlet interop: hi alice")
        await publish_ok(bob_client, answer, "gift-wrapped answer to alice")
        got = await alice_client.fetch_events(
            ReqTarget.auto([Filter().kind(Kind(1059)).pubkey(alice.public_key())]),
            timeout=timedelta(seconds=RELAY_REPLY))
        require(ids(got) == [answer.id().to_hex()],
                f"alice fetched {describe(got)}, expected bob's answer {short(answer.id().to_hex())}")
        unwrapped(got[0], alice, bob, "martlet interop: hi alice")

    async with connected(session, "stranger") as stranger:
        stream = stranger.notifications()
        sub_id = f"snoop-{uuid.uuid4().hex[:8]}"
        await stranger.subscribe(ReqTarget.auto([inbox]), sub_id)
        try:
            async with asyncio.timeout(RELAY_REPLY):
                while True:
                    item = await stream.next()
                    require(item is not None, "the stranger's notification stream ended")
                    if not item.is_message():
                        continue
                    msg = item.message.as_enum()
                    if getattr(msg, "subscription_id", None) != sub_id:
                        continue
                    require(not msg.is_event_msg(), "bob's gift wrap was served to a client that never authenticated")
                    require(msg.is_closed() and msg.message.startswith("auth-required:"),
                            f"a client without AUTH got {item.message.as_json()}, expected CLOSED auth-required:")
                    break
        except TimeoutError:
            raise CheckFailed(f"no answer to the stranger's REQ within {RELAY_REPLY:.0f} s") from None


def nip11(session: Session) -> dict:
    """The relay's NIP-11 document."""
    http_url = session.url.replace("ws://", "http://", 1)
    request = urllib.request.Request(http_url, headers={"Accept": "application/nostr+json"})
    with urllib.request.urlopen(request, timeout=RELAY_REPLY) as response:
        return json.loads(response.read())


class MLSMember:
    """One NIP-EE user: a Nostr identity and an MLS client of mls-rs whose BasicCredential
    identity is that key ("set the `identity` value as the 32-byte hex-encoded public key")."""

    def __init__(self) -> None:
        self.keys = Keys.generate()
        self.client = mls.Client(
            bytes.fromhex(self.keys.public_key().to_hex()),
            mls.generate_signature_keypair(mls.CipherSuite.CURVE25519_AES128),
            mls.client_config_default())
        self.group: mls.Group | None = None


def group_event_keys(group: mls.Group) -> Keys:
    """NIP-EE: "use the hex-encoded `exporter_secret` value as the private key (used as
    the sender key), calculate the public key for that private key (used as the receiver
    key)", the secret exported 32 bytes long and labeled `nostr`."""
    return Keys.parse(group.export_secret(b"nostr", b"", 32).hex())


def group_event(group: mls.Group, message: mls.Message, group_id: str, created_at: int) -> Event:
    """A kind-445 group event: the MLSMessage NIP-44-encrypted with the epoch's exporter
    secret, signed by a throwaway key ("a new Nostr keypair for each Group Event")."""
    keys = group_event_keys(group)
    content = nip44_encrypt(keys.secret_key(), keys.public_key(), message.to_bytes().hex(), Nip44Version.V2)
    return signed(Keys.generate(), content, created_at=created_at, kind=445,
                  tags=[Tag.parse(["h", group_id])])


async def check_nip_ee_mls(session: Session) -> None:
    """NIP-EE with real MLS (RFC 9420, mls-rs): Bob's KeyPackage (kind 443) is published
    and read back by Alice, who adds him to a group; the Commit goes out as a group event
    (kind 445) and the Welcome (kind 444) sealed and gift-wrapped (kind 1059) to Bob, who
    reads it only after AUTH, joins, and decrypts Alice's application message read by
    `#h`. A bare Welcome is refused, and the Commit, published older, disappears once its
    retention (NIP-11 `retention` for kind 445) has passed while the newer message stays.

    NIP-EE: "Welcome Events are then sealed and gift-wrapped as detailed in NIP-59 before
    being published. Like all events that are sealed and gift-wrapped, `kind: 444` events
    MUST never be signed." / "The `h` tag is the nostr group ID value".
    """
    rules = [rule for rule in nip11(session).get("retention", [])
             if 445 in rule.get("kinds", []) and isinstance(rule.get("time"), int)]
    require(rules, "NIP-11 retention names no time for kind 445: start the relay with features.mls on")
    retention = rules[0]["time"]
    require(retention <= 40, f"kind 445 retention is {retention} s; this check waits it out, so it needs <= 40 s")

    alice, bob = MLSMember(), MLSMember()
    async with connected(session, "bob", auth=bob.keys) as bob_client, \
            connected(session, "alice", auth=alice.keys) as alice_client:
        # Bob: "Each user that wishes to be reachable via MLS-based messaging MUST first
        # publish at least one KeyPackage event."
        key_package = bob.client.generate_key_package_message()
        package_event = signed(bob.keys, key_package.to_bytes().hex(), kind=443, tags=[
            Tag.parse(["mls_protocol_version", "1.0"]),
            Tag.parse(["ciphersuite", "0x0001"]),
            Tag.parse(["extensions", "0x0003", "0x000a"]),
            Tag.parse(["relays", session.url]),
        ])
        await publish_ok(bob_client, package_event, "bob's KeyPackage")

        # Alice finds it on the relay and adds Bob with exactly those bytes.
        found = await req_frames(session, [Filter().author(bob.keys.public_key()).kind(Kind(443))], "keypackage")
        require(ids(found) == [package_event.id().to_hex()],
                f"bob's KeyPackages read back: {describe(found)}, expected {short(package_event.id().to_hex())}")
        alice.group = alice.client.create_group(None)
        commit = alice.group.add_members([mls.Message.from_bytes(bytes.fromhex(found[0].content()))])
        require(commit.welcome_message is not None, "mls-rs made no Welcome for bob")

        # The Commit goes out as a group event first ("Clients creating the Welcome Event
        # SHOULD wait until they have received acknowledgement ... Commit"), dated so that
        # its retention ends 15 s from now.
        group_id = os.urandom(32).hex()
        now = int(time.time())
        commit_event = group_event(alice.group, commit.commit_message, group_id, now - retention + 15)
        await publish_ok(alice_client, commit_event, "the Commit (kind 445)")
        alice.group.process_incoming_message(commit.commit_message)

        # A signed, bare Welcome would leak the invitation: the relay refuses it.
        welcome_bytes = commit.welcome_message.to_bytes().hex()
        welcome_tags = [Tag.parse(["e", package_event.id().to_hex()]), Tag.parse(["relays", session.url])]
        bare = signed(alice.keys, welcome_bytes, kind=444, tags=welcome_tags)
        accepted, reason = await publish(alice_client, bare)
        require(not accepted and (reason.startswith("invalid:") or reason.startswith("blocked:")),
                f"a bare kind-444 Welcome got accepted={accepted} {reason!r}, expected OK false invalid:/blocked:")

        rumor = EventBuilder(Kind(444), welcome_bytes).tags(welcome_tags).finalize_unsigned(alice.keys.public_key())
        wrap = nip59_make_gift_wrap(alice.keys, bob.keys.public_key(), rumor)
        await publish_ok(alice_client, wrap, "the gift-wrapped Welcome (kind 1059)")

        # Bob's inbox: the relay asks for AUTH first, nostr-sdk answers and repeats the REQ.
        inbox = await bob_client.fetch_events(
            ReqTarget.auto([Filter().kind(Kind(1059)).pubkey(bob.keys.public_key())]),
            timeout=timedelta(seconds=RELAY_REPLY))
        require(ids(inbox) == [wrap.id().to_hex()],
                f"bob's authenticated inbox held {describe(inbox)}, expected the wrap {short(wrap.id().to_hex())}")
        gift = UnwrappedGift.from_gift_wrap(bob.keys, inbox[0])
        welcome = gift.rumor()
        require(welcome.kind().as_u16() == 444 and gift.sender().to_hex() == alice.keys.public_key().to_hex(),
                f"unwrapped a kind {welcome.kind().as_u16()} from {gift.sender().to_hex()[:12]}, expected alice's 444")
        bob.group = bob.client.join_group(None, mls.Message.from_bytes(bytes.fromhex(welcome.content()))).group
        require(group_event_keys(bob.group).public_key().to_hex() == group_event_keys(alice.group).public_key().to_hex(),
                "bob joined a different epoch than alice's")

        # An application message, read back by the group's h tag and decrypted by Bob.
        text = b"martlet interop: hello bob, in MLS"
        message_event = group_event(alice.group, alice.group.encrypt_application_message(text), group_id, int(time.time()))
        await publish_ok(alice_client, message_event, "the application message (kind 445)")
        by_group = [Filter.from_json(json.dumps({"kinds": [445], "#h": [group_id]}))]
        read = await req_frames(session, by_group, "group")
        require(set(ids(read)) == {commit_event.id().to_hex(), message_event.id().to_hex()},
                f"#h read back {describe(read)}, expected the Commit and the message")
        keys = group_event_keys(bob.group)
        message = next(event for event in read if event.id().to_hex() == message_event.id().to_hex())
        plain = nip44_decrypt(keys.secret_key(), keys.public_key(), message.content())
        received = bob.group.process_incoming_message(mls.Message.from_bytes(bytes.fromhex(plain)))
        require(received.is_application_message() and received.data == text,
                f"bob decrypted {received}, expected the application message {text!r}")

        # The Commit's retention ends within 15 s; the purge removes it, and
        # the message, not as old, stays.
        deadline = time.monotonic() + retention
        while True:
            left = ids(await req_frames(session, by_group, "group"))
            if commit_event.id().to_hex() not in left:
                break
            require(time.monotonic() < deadline,
                    f"the Commit was still served {retention} s after its retention ended")
            await asyncio.sleep(0.5)
        require(left == [message_event.id().to_hex()],
                f"after the Commit's retention #h read back {left}, expected only the newer message")


CHECKS: list[tuple[str, Callable[[Session], Awaitable[None]]]] = [
    ("publish", check_publish),
    ("query", check_query),
    ("control-characters", check_control_characters),
    ("newest-first-limit", check_newest_first_limit),
    ("subscribe", check_subscribe),
    ("replaceable", check_replaceable),
    ("deletion", check_deletion),
    ("nip11", check_nip11),
    ("invalid", check_invalid),
    ("negentropy-sync", check_negentropy_sync),
    ("nip17-direct-messages", check_nip17_direct_messages),
    ("nip-ee-mls", check_nip_ee_mls),
]


# --------------------------------------------------------------------------------------
# Driver
# --------------------------------------------------------------------------------------


def report(name: str, error: str | None) -> bool:
    if error is None:
        print(f"interop: PASS {name}", flush=True)
        return True
    print(f"interop: FAIL {name}: {error}", flush=True)
    return False


async def run_checks(url: str) -> list[bool]:
    session = Session(url)
    deadline = time.monotonic() + RUN_BUDGET
    results = []
    for name, check in CHECKS:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            results.append(report(name, f"not run: the {RUN_BUDGET:.0f} s budget is spent"))
            continue
        limit = min(SLOW_CHECKS.get(name, CHECK_TIMEOUT), remaining)
        log(f"--- {name}")
        try:
            async with asyncio.timeout(limit):
                await check(session)
        except CheckFailed as failure:
            results.append(report(name, str(failure)))
        except TimeoutError:
            results.append(report(name, f"timed out after {limit:.0f} s"))
        except Exception as error:  # an SDK error is a failure of this check, not a crash
            results.append(report(name, f"{type(error).__name__}: {error}"))
        else:
            results.append(report(name, None))
    return results


def local_url(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    if parts.scheme != "ws" or parts.hostname != "127.0.0.1" or parts.port is None:
        raise SystemExit(f"interop: --url must be ws://127.0.0.1:<port>, got {url!r}")
    return f"ws://127.0.0.1:{parts.port}"


async def main() -> int:
    global VERBOSE
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument("--martlet", metavar="PATH", help="martlet binary to start and test")
    target.add_argument("--url", help="test an already running relay at ws://127.0.0.1:PORT")
    parser.add_argument("--verbose", "-v", action="store_true",
                        help="print the relay's frames and martlet's stdout on stderr")
    args = parser.parse_args()
    VERBOSE = args.verbose

    if args.url:
        results = await run_checks(local_url(args.url))
    else:
        binary = os.path.abspath(args.martlet)
        if not os.access(binary, os.X_OK):
            print(f"interop: FAIL startup: {binary} is not an executable file", flush=True)
            return 1
        relay = MartletProcess(binary)
        try:
            try:
                url = await relay.start()
            except Exception as error:
                report("startup", str(error))
                return 1
            log(f"martlet listening on {url}")
            results = await run_checks(url)
            try:
                await relay.stop()
                results.append(report("shutdown", None))
            except CheckFailed as failure:
                results.append(report("shutdown", str(failure)))
        finally:
            await relay.kill()
            relay.cleanup()

    failed = results.count(False)
    print(f"interop: {len(results) - failed} passed, {failed} failed", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
