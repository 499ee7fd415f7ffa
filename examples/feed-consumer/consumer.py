"""Follows scimd's event feed (GET /api/v1/events) and acts on the events it knows.

Keeps its place in a file, long-polls, stops on a refused key (401/403), starts again from the latest event
when its cursor has expired (410), and waits as long as scimd asks (Retry-After) on 429 and 503.
"""

import os
import sys
import time
from pathlib import Path

import requests

SCIMD_URL = os.environ.get("SCIMD_URL", "http://127.0.0.1:8080").rstrip("/")
API_KEY = os.environ.get("SCIMD_API_KEY") or sys.exit("Set SCIMD_API_KEY (scimd api-key create --name feed).")
CURSOR_FILE = Path(os.environ.get("CURSOR_FILE", "feed-cursor.txt"))
WAIT = 30  # seconds an empty answer waits for an event (scimd's most)


def user_label(data: dict) -> str:
    """Who a user.* event is about: the feed's `data.user` is the user, as the directory API shows one."""
    return f"{data['user']['user_name']} (id {data['id']})"


def handle(event: dict) -> None:
    """Acts on the event types this app knows and ignores the others (new types may come)."""
    kind, data, org = event["type"], event["data"], event["org_id"]
    if kind in ("user.deactivated", "user.deleted"):
        say(f"{kind}: {user_label(data)} of org {org}: revoke their access")
    elif kind == "user.reactivated":
        say(f"{kind}: {user_label(data)} of org {org}: restore their access")
    elif kind == "session.revoked":
        sids = data.get("session_ids") or [data["session_id"]]
        say(f"{kind}: end the app sessions whose sid is {', '.join(sids)}")


def say(line: str, to=sys.stdout) -> None:
    print(line, file=to, flush=True)


def load_cursor() -> str | None:
    """The saved cursor; none at the first start: the feed from its oldest retained event."""
    return CURSOR_FILE.read_text().strip() if CURSOR_FILE.exists() else None


def save_cursor(cursor: str) -> None:
    tmp = CURSOR_FILE.with_suffix(".tmp")
    tmp.write_text(cursor)
    tmp.replace(CURSOR_FILE)  # atomic: a crash leaves the old cursor or the new one


def retry_after(res: requests.Response) -> int:
    value = res.headers.get("Retry-After", "")
    return int(value) if value.isdigit() else 5


def main() -> None:
    http = requests.Session()
    http.headers["Authorization"] = f"Bearer {API_KEY}"
    cursor = load_cursor()
    say(f"following {SCIMD_URL}/api/v1/events from {cursor or 'the oldest event'}")
    while True:
        try:
            res = http.get(f"{SCIMD_URL}/api/v1/events", params={"after": cursor, "wait": WAIT}, timeout=WAIT + 10)
        except requests.RequestException as err:
            say(f"scimd unreachable ({err}); trying again in 5 s", sys.stderr)
            time.sleep(5)
            continue
        if res.status_code == 200:
            page = res.json()
            for event in page["events"]:
                handle(event)
                save_cursor(event["cursor"])  # a restart resumes right after the last event handled
            cursor = page["next_cursor"]
            save_cursor(cursor)
        elif res.status_code in (401, 403):
            sys.exit(
                f"scimd refused the API key ({res.status_code} {res.text.strip()}): it was revoked, mistyped, or "
                "is bound to another org. Create one with `scimd api-key create` and set SCIMD_API_KEY."
            )
        elif res.status_code == 410:
            say(
                "the cursor's events were purged (410 cursor_expired): starting again from the latest event; "
                "re-read the directory API for what was missed",
                sys.stderr,
            )
            cursor = "latest"
            save_cursor(cursor)
        elif res.status_code == 429 or res.status_code >= 500:  # 503: scimd or its database busy
            delay = retry_after(res)
            say(f"scimd answered {res.status_code}; trying again in {delay} s", sys.stderr)
            time.sleep(delay)
        else:
            sys.exit(f"scimd answered {res.status_code} {res.text.strip()}")


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        pass
