#!/usr/bin/env python3
"""A paycue webhook receiver: Python 3.8+, standard library only.

Verifies the Standard Webhooks signature, ignores events it has already seen
(paycue delivers at least once, with the same event_id on every retry), and
answers 2xx so paycue stops retrying. Put your order logic in handle().

    WEBHOOK_SECRET=whsec_... PORT=8000 python3 receiver.py
"""
import base64
import hashlib
import hmac
import json
import os
import sys
import time
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

TOLERANCE = 5 * 60  # seconds; older or future timestamps are replays
SECRET = os.environ.get("WEBHOOK_SECRET", "")
if not SECRET.startswith("whsec_"):
    sys.exit("set WEBHOOK_SECRET to the same whsec_... value as paycue's WEBHOOK_SECRET")
KEY = base64.b64decode(SECRET[len("whsec_"):])
seen = set()  # use your database in production: a unique index on event_id


def verify(headers, body: bytes) -> bool:
    msg_id = headers.get("webhook-id", "")
    timestamp = headers.get("webhook-timestamp", "")
    signatures = headers.get("webhook-signature", "")
    if not (msg_id and timestamp.isdigit() and signatures):
        return False
    if abs(time.time() - int(timestamp)) > TOLERANCE:
        return False
    signed = f"{msg_id}.{timestamp}.".encode() + body
    expected = "v1," + base64.b64encode(hmac.new(KEY, signed, hashlib.sha256).digest()).decode()
    return any(hmac.compare_digest(expected, s) for s in signatures.split(" "))


def handle(event):
    """Your shop's logic. Amounts are Decimals, never floats."""
    action = event["action"]
    if action == "confirm":
        print(f"paid: order {event['metadata']} transaction {event['transaction_id']} amount {event['amount']}", flush=True)
    elif action == "cancel":
        print(f"cancelled: transaction {event['transaction_id']}", flush=True)
    elif action == "late":
        print(f"LATE payment for ended transaction {event['transaction_id']}: check by hand", flush=True)
    else:  # "test" from `paycue check --send-test`, or an action added later
        print(f"{action}: event {event['event_id']} acknowledged", flush=True)


class Receiver(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("content-length", 0)))
        if not verify(self.headers, body):  # verify the raw bytes, before parsing
            return self.answer(401, "bad signature")
        try:
            event = json.loads(body, parse_float=Decimal)
        except ValueError:
            return self.answer(400, "not JSON")
        if event["event_id"] not in seen:
            handle(event)
            seen.add(event["event_id"])
        self.answer(204, "")

    def answer(self, code, text):
        self.send_response(code)
        self.send_header("content-length", str(len(text)))
        self.end_headers()
        self.wfile.write(text.encode())

    def log_message(self, *args):  # quiet: handle() prints what matters
        pass


if __name__ == "__main__":
    port = int(os.environ.get("PORT", "8000"))
    print(f"listening on 127.0.0.1:{port}", flush=True)
    ThreadingHTTPServer(("127.0.0.1", port), Receiver).serve_forever()
