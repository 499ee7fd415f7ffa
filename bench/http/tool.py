#!/usr/bin/env python3
"""Helpers of bench/http/run.sh (standard library only; keep-alive HTTP/1.1 to scimd on loopback).

  tool.py total  URL TOKEN                 -> the number of Users
  tool.py dump   URL TOKEN NAMES IDS       -> every User's userName and id, one a line, via RFC 9865 cursors
  tool.py groups URL TOKEN IDS             -> times adding 100 members to a group of 100 and to one of 100,000
"""

import http.client
import json
import sys
import time
import urllib.parse


class Scim:
    def __init__(self, url, token):
        u = urllib.parse.urlsplit(url)
        self.base = u.path
        self.conn = http.client.HTTPConnection(u.hostname, u.port, timeout=300)
        self.headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/scim+json"}

    def call(self, method, path, body=None, expect=(200,)):
        data = json.dumps(body) if body is not None else None
        self.conn.request(method, self.base + path, body=data, headers=self.headers)
        r = self.conn.getresponse()
        raw = r.read()
        if r.status not in expect:
            sys.exit(f"{method} {path}: {r.status} {raw[:300]!r}")
        return json.loads(raw) if raw else None


PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp"


def add(ids):
    return {"schemas": [PATCH], "Operations": [{"op": "add", "path": "members", "value": [{"value": i} for i in ids]}]}


def group(s, name, members):
    g = s.call("POST", "/Groups", {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": name},
               expect=(201,))
    for i in range(0, len(members), 10_000):
        s.call("PATCH", f"/Groups/{g['id']}", add(members[i:i + 10_000]), expect=(204,))
    return g["id"]


def timed_adds(s, gid, batches):
    times = []
    for b in batches:
        t = time.perf_counter()
        s.call("PATCH", f"/Groups/{gid}", add(b), expect=(204,))
        times.append((time.perf_counter() - t) * 1000)
    times.sort()
    return times[len(times) // 2], sum(times) / len(times)


def main():
    cmd, url, token = sys.argv[1], sys.argv[2], sys.argv[3]
    s = Scim(url, token)
    if cmd == "total":
        print(s.call("GET", "/Users?count=0")["totalResults"])
    elif cmd == "dump":
        with open(sys.argv[4], "w") as names, open(sys.argv[5], "w") as ids:
            cursor = ""
            while True:
                page = s.call("GET", f"/Users?count=1000&attributes=userName&cursor={cursor}")
                for r in page["Resources"]:
                    names.write(urllib.parse.quote(r["userName"]) + "\n")
                    ids.write(r["id"] + "\n")
                cursor = page.get("nextCursor")
                if not cursor:
                    break
    elif cmd == "groups":
        ids = [line.strip() for line in open(sys.argv[4])]
        assert len(ids) >= 102_000, len(ids)
        big_members, small_members, extra = ids[:100_000], ids[:100], ids[100_000:102_000]
        t = time.perf_counter()
        big = group(s, f"big-{time.time()}", big_members)
        print(f"built a group of 100,000 members in {time.perf_counter() - t:.1f} s (10 PATCHes of 10,000)")
        small = group(s, f"small-{time.time()}", small_members)
        batches = [extra[i:i + 100] for i in range(0, 2000, 100)]
        b_med, b_avg = timed_adds(s, big, batches[:10])
        s_med, s_avg = timed_adds(s, small, batches[10:])
        print(f"add 100 members to a group of 100,000: median {b_med:.2f} ms, mean {b_avg:.2f} ms (10 PATCHes)")
        print(f"add 100 members to a group of 100:     median {s_med:.2f} ms, mean {s_avg:.2f} ms (10 PATCHes)")
        print(f"ratio (median): {b_med / s_med:.2f}")
    else:
        sys.exit(f"unknown command {cmd}")


if __name__ == "__main__":
    main()
