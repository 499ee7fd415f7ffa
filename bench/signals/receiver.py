#!/usr/bin/env python3
"""A loopback SSF push receiver (RFC 8935) for bench/signals/run.sh: answers 202 to every POST and counts the
SETs with their arrival times. `GET /stats` answers {"count", "first", "last"} (seconds, monotonic clock) and
`POST /reset` forgets what came. Usage: receiver.py PORT_FILE (the chosen loopback port is written there)."""
import http.server
import json
import sys
import threading
import time

lock = threading.Lock()
stats = {"count": 0, "first": None, "last": None}


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def answer(self, code, body=b""):
        self.send_response(code)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        if self.path == "/reset":
            with lock:
                stats.update(count=0, first=None, last=None)
            return self.answer(204)
        now = time.monotonic()
        with lock:
            stats["count"] += 1
            stats["first"] = stats["first"] or now
            stats["last"] = now
        self.answer(202)

    def do_GET(self):
        with lock:
            body = json.dumps(dict(stats, now=time.monotonic())).encode()
        self.answer(200, body)


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
with open(sys.argv[1], "w") as f:
    f.write(str(server.server_address[1]))
server.serve_forever()
