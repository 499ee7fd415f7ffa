#!/usr/bin/env python3
"""Helpers of bench/events/run.sh (standard library only).

  feed.py read URL KEY        -> reads the whole feed from the start, 1,000 events a page; prints
                                 "EVENTS SECONDS EVENTS_PER_SECOND"
  feed.py stats URL           -> the receiver's {"count", "first", "last"}
  feed.py wait URL N SECONDS  -> waits until the receiver has N deliveries (or SECONDS pass); prints the count
"""

import http.client
import json
import sys
import time
import urllib.parse


def conn(url):
    u = urllib.parse.urlsplit(url)
    return http.client.HTTPConnection(u.hostname, u.port, timeout=120)


def get(c, path, headers=None):
    while True:
        c.request("GET", path, headers=headers or {})
        r = c.getresponse()
        raw = r.read()
        if r.status == 429:
            time.sleep(float(r.getheader("Retry-After", "1")))
            continue
        if r.status != 200:
            sys.exit(f"GET {path}: {r.status} {raw[:200]!r}")
        return json.loads(raw)


def read(url, key):
    c = conn(url)
    headers = {"Authorization": f"Bearer {key}"}
    cursor, n, started = "0", 0, time.time()
    while True:
        page = get(c, f"/api/v1/events?after={cursor}&limit=1000", headers)
        if not page["events"]:
            break
        n += len(page["events"])
        cursor = page["next_cursor"]
    took = time.time() - started
    print(f"{n} {took:.2f} {n / took:.0f}")


def stats(url):
    return get(conn(url), "/stats")


if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "read":
        read(sys.argv[2], sys.argv[3])
    elif cmd == "stats":
        print(json.dumps(stats(sys.argv[2])))
    elif cmd == "wait":
        want, deadline = int(sys.argv[3]), time.time() + float(sys.argv[4])
        while True:
            s = stats(sys.argv[2])
            if s["count"] >= want or time.time() > deadline:
                print(s["count"])
                break
            time.sleep(0.2)
