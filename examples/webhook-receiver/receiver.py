"""Receives scimd's webhooks: verifies each delivery with the Standard Webhooks library, acts on each event
once (deliveries are at least once: deduplicated by `webhook-id`), and answers 2xx only after both.
"""

import os
import sqlite3
import sys
from contextlib import closing

from flask import Flask, request
from standardwebhooks import Webhook, WebhookVerificationError

SECRET = os.environ.get("SCIMD_WEBHOOK_SECRET") or sys.exit("Set SCIMD_WEBHOOK_SECRET (from scimd webhook create).")
SEEN_DB = os.environ.get("SEEN_DB", "webhooks-seen.db")  # the webhook-ids already handled

webhook = Webhook(SECRET)
app = Flask(__name__)


def user_label(event: dict) -> str:
    """Who a user.* event is about: a delivery is the feed's event, and its `data.user` the user, in the shape
    the directory API answers (docs/PLATFORM.md, "A user and a group")."""
    return f"{event['data']['user']['user_name']} (id {event['data']['id']})"


def handle(event: dict) -> None:
    """Acts on the event types this app knows and ignores the others (new types may come)."""
    kind = event["type"]
    if kind in ("user.deactivated", "user.deleted"):
        print(f"{kind}: {user_label(event)} of org {event['org_id']}: revoke their access", flush=True)
    elif kind == "user.reactivated":
        print(f"{kind}: {user_label(event)} of org {event['org_id']}: restore their access", flush=True)
    elif kind == "webhook.test":
        print("webhook.test: scimd reaches this endpoint", flush=True)


@app.post("/webhooks/scimd")
def receive():
    try:
        # The raw body as received: a re-serialized JSON would not match the signature.
        payload = webhook.verify(request.get_data(), dict(request.headers))
    except WebhookVerificationError as err:
        print(f"refused a delivery: {err}", file=sys.stderr, flush=True)
        return {"error": "invalid signature"}, 400
    with closing(sqlite3.connect(SEEN_DB)) as db, db:  # one transaction: commits, or rolls back on an error
        db.execute("CREATE TABLE IF NOT EXISTS seen (webhook_id TEXT PRIMARY KEY)")
        msg_id = request.headers["webhook-id"]
        if db.execute("INSERT OR IGNORE INTO seen VALUES (?)", (msg_id,)).rowcount == 0:
            print(f"{payload['type']} {msg_id}: already handled", flush=True)
            return "", 204
        # An exception here rolls the insert back and answers 500: scimd delivers the event again later.
        handle(payload)
    return "", 204


if __name__ == "__main__":
    app.run(port=int(os.environ.get("PORT", "5001")))
