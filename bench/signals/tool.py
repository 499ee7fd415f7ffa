#!/usr/bin/env python3
"""Helpers of bench/signals/run.sh, standard library only.
  stream BASE KEY push URL | poll   create a stream (account-disabled/-enabled); prints its stream_id
  delete BASE KEY STREAM            delete it
  poll BASE KEY STREAM SECONDS MAX  poll with ack (maxEvents 100, returnImmediately) until SECONDS pass with nothing
                                    new or MAX seconds after the first SET; prints SETs polled, the seconds from the
                                    first to the last, and SETs/s
  drain RECEIVER EXPECTED SECONDS MAX  wait until the receiver has EXPECTED SETs, SECONDS pass with nothing new, or
                                    MAX seconds after its first SET; prints SETs pushed, the seconds from the first
                                    to the last, and SETs/s"""
import json
import sys
import time
import urllib.error
import urllib.request

EVENTS = [
    "https://schemas.openid.net/secevent/risc/event-type/account-disabled",
    "https://schemas.openid.net/secevent/risc/event-type/account-enabled",
]


def call(method, url, key, body=None, timeout=60):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method)
    req.add_header("Authorization", "Bearer " + key)
    req.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(req, timeout=timeout) as r:
        text = r.read()
        return json.loads(text) if text else None


def main():
    cmd = sys.argv[1]
    if cmd == "stream":
        base, key, method = sys.argv[2:5]
        body = {"events_requested": EVENTS, "description": "bench"}
        if method == "push":
            body["delivery"] = {"method": "urn:ietf:rfc:8935", "endpoint_url": sys.argv[5]}
        print(call("POST", base + "/ssf/streams", key, body)["stream_id"])
    elif cmd == "delete":
        base, key, stream = sys.argv[2:5]
        call("DELETE", base + "/ssf/streams?stream_id=" + stream, key)
    elif cmd == "poll":
        base, key, stream, quiet, most = sys.argv[2], sys.argv[3], sys.argv[4], float(sys.argv[5]), float(sys.argv[6])
        ack, count, first, last = [], 0, None, time.monotonic()
        while True:
            try:
                got = call("POST", base + "/ssf/poll/" + stream, key,
                           {"maxEvents": 100, "returnImmediately": True, "ack": ack})
            except urllib.error.HTTPError as e:
                if e.code == 429:  # the key's bucket (default limits): wait and go on
                    time.sleep(0.05)
                    continue
                raise
            sets = got.get("sets", {})
            ack = list(sets)
            now = time.monotonic()
            if sets:
                count += len(sets)
                first = first or now
                last = now
            elif now - last > (quiet if first else 30):  # the first SET may take a while to come
                break
            else:
                time.sleep(0.05)
            if first and now - first > most:
                break
        if ack:
            call("POST", base + "/ssf/poll/" + stream, key, {"returnImmediately": True, "maxEvents": 0, "ack": ack})
        span = (last - first) if first else 0
        print(f"{count} {span:.2f} {count / span if span else 0:.0f}")
    elif cmd == "drain":
        receiver, expected, quiet, most = sys.argv[2], int(sys.argv[3]), float(sys.argv[4]), float(sys.argv[5])
        seen, since = -1, time.monotonic()
        while True:
            s = json.load(urllib.request.urlopen(receiver))
            if s["count"] != seen:
                seen, since = s["count"], time.monotonic()
            if s["count"] >= expected or time.monotonic() - since > (quiet if s["first"] else 30) or (
                    s["first"] and s["now"] - s["first"] > most):
                break
            time.sleep(0.2)
        span = (s["last"] - s["first"]) if s["first"] else 0
        print(f"{s['count']} {span:.2f} {s['count'] / span if span else 0:.0f}")


main()
