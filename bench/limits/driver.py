#!/usr/bin/env python3
"""Org B's IdP at a steady pace: one keep-alive connection, RATE requests a second for SECONDS, then the
latency percentiles and the status counts. Usage: driver.py URL TOKEN RATE SECONDS"""
import http.client
import sys
import time
import urllib.parse
from collections import Counter

url, token, rate, seconds = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4])
u = urllib.parse.urlsplit(url)
target = u.path + ("?" + u.query if u.query else "")
conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
headers = {"Authorization": f"Bearer {token}"}
lat, statuses = [], Counter()
start = time.monotonic()
n = 0
while time.monotonic() - start < seconds:
    due = start + n / rate
    pause = due - time.monotonic()
    if pause > 0:
        time.sleep(pause)  # pacing, not synchronisation
    t0 = time.perf_counter()
    conn.request("GET", target, headers=headers)
    r = conn.getresponse()
    r.read()
    lat.append((time.perf_counter() - t0) * 1000)
    statuses[r.status] += 1
    n += 1
lat.sort()
pct = lambda p: lat[min(len(lat) - 1, int(len(lat) * p))]
print(f"requests {n} statuses {dict(statuses)}")
print(f"p50 {pct(0.50):.2f} ms  p99 {pct(0.99):.2f} ms  max {lat[-1]:.2f} ms")
