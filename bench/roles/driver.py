#!/usr/bin/env python3
"""Helpers of bench/roles/run.sh (standard library only; keep-alive HTTP/1.1 to scimd on loopback).

  driver.py patch URL TOKEN MAPPED PLAIN ROUNDS   -> membership PATCH latency, a mapped group against an unmapped one
  driver.py fill  URL TOKEN GROUP FIRST LAST      -> adds bulk-FIRST..bulk-LAST to GROUP, 10,000 a PATCH
"""

import statistics
import sys
import time

sys.path.insert(0, __file__.rsplit("/", 2)[0] + "/http")
from tool import PATCH, Scim, add  # noqa: E402


def remove(ids):
    return {"schemas": [PATCH], "Operations": [{"op": "remove", "path": "members", "value": [{"value": i} for i in ids]}]}


def timed(s, gid, body):
    t = time.perf_counter()
    s.call("PATCH", f"/Groups/{gid}", body, expect=(204,))
    return (time.perf_counter() - t) * 1000


def patch(s, mapped, plain, rounds):
    """Each round adds one member to a group and removes it again, on both groups in turn (ABAB), so that drift
    in the machine's load falls on both arms alike; members bulk-1.. are distinct per round."""
    arms = {mapped: [], plain: []}
    for r in range(rounds):
        order = (mapped, plain) if r % 2 == 0 else (plain, mapped)
        for gid in order:
            member = f"bulk-{r + 1}"
            arms[gid].append(timed(s, gid, add([member])))
            arms[gid].append(timed(s, gid, remove([member])))
    m, p = statistics.median(arms[mapped]), statistics.median(arms[plain])
    mm, pm = statistics.mean(arms[mapped]), statistics.mean(arms[plain])
    print(f"membership PATCH (add or remove one member), {2 * rounds} requests per arm, sequential:")
    print(f"  unmapped group: median {p:.2f} ms, mean {pm:.2f} ms")
    print(f"  mapped group:   median {m:.2f} ms, mean {mm:.2f} ms")
    print(f"  mapped / unmapped: median {m / p:.3f}, mean {mm / pm:.3f}")


def main():
    cmd, url, token = sys.argv[1], sys.argv[2], sys.argv[3]
    s = Scim(url, token)
    if cmd == "patch":
        patch(s, sys.argv[4], sys.argv[5], int(sys.argv[6]))
    elif cmd == "fill":
        gid, first, last = sys.argv[4], int(sys.argv[5]), int(sys.argv[6])
        for start in range(first, last + 1, 10_000):
            ids = [f"bulk-{i}" for i in range(start, min(start + 10_000, last + 1))]
            s.call("PATCH", f"/Groups/{gid}", add(ids), expect=(204,))
    elif cmd == "group":
        g = s.call("POST", "/Groups", {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
                                       "displayName": sys.argv[4]}, expect=(201,))
        print(g["id"])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
