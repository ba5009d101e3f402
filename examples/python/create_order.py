#!/usr/bin/env python3
"""A shop client: creates a paycue transaction and shows the buyer what to pay.
Python 3.8+, standard library only.

    PAYCUE_URL=http://127.0.0.1:10800 API_KEY=... python3 create_order.py 20000 order-1001
"""
import json
import os
import sys
import time
import urllib.error
import urllib.request
from decimal import Decimal

URL = os.environ.get("PAYCUE_URL", "http://127.0.0.1:10800").rstrip("/")
API_KEY = os.environ.get("API_KEY", "")


def create_transaction(price: Decimal, order_id: str) -> dict:
    # The amount goes out as a JSON number made from the Decimal's digits.
    body = ('{"amount": %s, "metadata": {"order_id": %s}}' % (price, json.dumps(order_id))).encode()
    # Always the same key for one order: a retry after a 503, a 408 or a lost
    # connection returns the transaction if paycue had created it, and never
    # creates a second one.
    headers = {
        "Content-Type": "application/json",
        "X-API-Key": API_KEY,
        "Idempotency-Key": f"order-{order_id}",
    }
    for attempt in range(1, 4):
        request = urllib.request.Request(f"{URL}/transactions", data=body, method="POST", headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=20) as response:
                return json.load(response, parse_float=Decimal)["data"]
        except urllib.error.HTTPError as e:  # paycue explains every error
            detail = json.load(e, parse_float=Decimal)["data"]["detail"]
            if e.code not in (408, 503) or attempt == 3:
                sys.exit(f"paycue answered {e.code}: {detail}")
            wait = int(e.headers.get("Retry-After", "5"))
            print(f"paycue answered {e.code} ({detail}); retrying in {wait} s", file=sys.stderr)
            time.sleep(wait)
        except (urllib.error.URLError, TimeoutError) as e:
            if attempt == 3:
                sys.exit(f"cannot reach paycue at {URL}: {getattr(e, 'reason', e)}")
            time.sleep(5)
    sys.exit("unreachable")


def grouped(amount) -> str:
    """20001 -> '20 001', 151.25 -> '151.25' (what the buyer types in the bank app)."""
    return f"{amount:,}".replace(",", " ")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: create_order.py PRICE ORDER_ID")
    tx = create_transaction(Decimal(sys.argv[1]), sys.argv[2])
    card = tx["card"] or "the seller's card"
    print(f"Pay exactly {grouped(tx['amount'])} {tx['currency']} to {card}")
    print(f"(not {grouped(tx['requested_amount'])}: the extra makes your payment recognisable)")
    print(f"before {tx['expires_at']}. Transaction {tx['transaction_id']}")
