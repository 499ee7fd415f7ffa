#!/usr/bin/env python3
"""Runs python-scim's compliance checker (scim2-tester) against a running scimd.

Usage: check_scim_compliance.py BASE_URL TOKEN

Prints every result; exits non-zero when any check is an ERROR or CRITICAL (a failure). DEVIATION results are
printed as warnings with the checker's reason: they do not fail the run, and the note in BENCHMARKS/README
says why each is right for scimd.
"""

import sys
import time

import httpx2
from scim2_client.engines.httpx2 import SyncSCIMClient
from scim2_tester import Status, check_server

FAILING = {Status.ERROR, Status.CRITICAL}
WARNING = {Status.DEVIATION}


class RetryAfter429(httpx2.HTTPTransport):
    """What Okta and Entra do on 429: wait for Retry-After, then send the request again. scim2-tester sends as
    fast as it can, above an org's default rate limit (50/s, burst 200), which stays on for this run."""

    def handle_request(self, request):
        for _ in range(100):
            response = super().handle_request(request)
            if response.status_code != 429:
                return response
            wait = float(response.headers.get("Retry-After", "1"))
            response.close()
            time.sleep(min(max(wait, 0.05), 10))
        return response


def main() -> int:
    base_url, token = sys.argv[1], sys.argv[2]
    http = httpx2.Client(
        base_url=base_url,
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
        transport=RetryAfter429(),
    )
    client = SyncSCIMClient(http)
    results = check_server(client)
    counts: dict[str, int] = {}
    failures = 0
    for r in results:
        counts[r.status.name] = counts.get(r.status.name, 0) + 1
        label = "FAIL" if r.status in FAILING else "WARN" if r.status in WARNING else "ok"
        where = f" [{r.resource_type}]" if r.resource_type else ""
        print(f"{label:4} {r.status.name:10} {r.title}{where}: {r.reason or ''}")
        if r.status in FAILING:
            failures += 1
    print("scim2-tester:", ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
