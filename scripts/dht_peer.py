#!/usr/bin/env python3
"""libtorrent DHT nodes on 127.0.0.1 for Martlet's interoperability tests (issue 17).

Starts N libtorrent sessions with only the DHT enabled, each bootstrapped from the others
(never the public routers), prints one JSON line {"event": "ready", "ports": [...]}, then
reads JSON commands on stdin, one per line, and answers each with one JSON line:

  {"op": "add_node", "port": P}                       every session learns 127.0.0.1:P
  {"op": "put", "session": i, "seed": HEX, "public_key": HEX, "value": TEXT, "salt": TEXT}
      -> {"event": "put", "num_success": n, "seq": s}
  {"op": "get", "session": i, "public_key": HEX, "salt": TEXT, "timeout": SECONDS}
      -> {"event": "get", "found": bool, "value": TEXT, "seq": s, "signature": HEX}
  {"op": "quit"}

Exit status 3 (with a JSON line saying why) when libtorrent cannot be imported.
"""
import hashlib
import json
import socket
import sys
import time

try:
    import libtorrent as lt
except ImportError as error:  # The Swift test skips, saying so.
    print(json.dumps({"event": "unavailable", "reason": str(error)}), flush=True)
    sys.exit(3)


def emit(obj):
    print(json.dumps(obj), flush=True)


def free_port():
    """A port free for both TCP and UDP on 127.0.0.1 (libtorrent listens on both)."""
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            udp.bind(("127.0.0.1", 0))
            port = udp.getsockname()[1]
            try:
                with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp:
                    tcp.bind(("127.0.0.1", port))
                return port
            except OSError:
                continue


def expanded_secret(seed):
    """libtorrent's ed25519 takes the 64-byte expanded key: SHA-512(seed), clamped (RFC 8032 5.1.5)."""
    digest = bytearray(hashlib.sha512(seed).digest())
    digest[0] &= 248
    digest[31] &= 63
    digest[31] |= 64
    return bytes(digest)


def start_sessions(count):
    ports = [free_port() for _ in range(count)]
    sessions = []
    for port in ports:
        others = ",".join(f"127.0.0.1:{p}" for p in ports if p != port)
        settings = {
            "listen_interfaces": f"127.0.0.1:{port}",
            "enable_dht": True,
            "enable_lsd": False,
            "enable_upnp": False,
            "enable_natpmp": False,
            "dht_bootstrap_nodes": others,
            "dht_restrict_routing_ips": False,
            "dht_restrict_search_ips": False,
            "dht_prefer_verified_node_ids": False,
            "dht_ignore_dark_internet": False,
            "dht_enforce_node_id": False,
            # Every test node shares 127.0.0.1, which libtorrent would treat as one host sending
            # them all: its defaults (5 packets/s per IP, else blocked for 5 minutes; 8 kB/s of
            # replies) would cut off relays that each scan the salt space.
            "dht_block_ratelimit": 100000,
            "dht_upload_rate_limit": 10000000,
            "alert_mask": int(lt.alert_category.dht | lt.alert_category.error),
        }
        sessions.append(lt.session(settings))
    for session in sessions:
        for port in ports:
            session.add_dht_node(("127.0.0.1", port))
    return sessions, [s.listen_port() for s in sessions]


def wait_alert(session, kind, timeout, accept=lambda alert: True):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        session.wait_for_alert(200)
        for alert in session.pop_alerts():
            if isinstance(alert, kind) and accept(alert):
                return alert
    return None


def text(value):
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def main():
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    sessions, ports = start_sessions(count)
    emit({"event": "ready", "ports": ports})
    for line in sys.stdin:
        command = json.loads(line)
        op = command.get("op")
        if op == "quit":
            break
        if op == "add_node":
            for session in sessions:
                session.add_dht_node(("127.0.0.1", int(command["port"])))
            emit({"event": "add_node"})
        elif op == "put":
            session = sessions[command.get("session", 0)]
            public_key = bytes.fromhex(command["public_key"])
            secret = expanded_secret(bytes.fromhex(command["seed"]))
            session.dht_put_mutable_item(secret, public_key, command["value"].encode(), command.get("salt", "").encode())
            alert = wait_alert(session, lt.dht_put_alert, command.get("timeout", 30))
            emit({"event": "put", "num_success": alert.num_success if alert else -1, "seq": alert.seq if alert else -1})
        elif op == "get":
            session = sessions[command.get("session", 0)]
            public_key = bytes.fromhex(command["public_key"])
            salt = command.get("salt", "").encode()
            session.dht_get_mutable_item(public_key, salt)
            alert = wait_alert(session, lt.dht_mutable_item_alert, command.get("timeout", 30),
                               lambda a: a.authoritative or a.seq > 0)
            if alert is None or alert.seq <= 0:
                emit({"event": "get", "found": False})
            else:
                # The binding hands the whole item as a dict; its "value" is the decoded v.
                item = alert.item["value"] if isinstance(alert.item, dict) else alert.item
                emit({"event": "get", "found": True, "value": text(item), "seq": alert.seq,
                      "signature": bytes(alert.signature).hex()})
        else:
            emit({"event": "error", "reason": f"unknown op {op}"})


if __name__ == "__main__":
    main()
