#!/usr/bin/env python3
"""Footprint of a paycue release binary: size, start-up time to ready,
resident memory idle and under load, and Redis memory per transaction.
Prints a Markdown table for the README.

    cargo build --release --locked
    python3 scripts/footprint.py [--binary target/release/paycue] [--creates 5000] [--clients 16]

Everything it starts is private and removed afterwards: a redis-server on a
temporary unix socket (no persistence), the Python example webhook receiver,
and paycue itself (`run --source stdin --store redis`, so no Telegram login is
needed; bank messages are written to its stdin, down the same path Telegram
messages take). Needs Python 3.8+ and redis-server on PATH. Linux only (it
reads VmRSS/VmHWM from /proc).

"Ready" is the first `GET /health` answered 200, i.e. listening and Redis
answering. "Under load" is CLIENTS concurrent keep-alive clients creating
transactions as fast as paycue answers while every transaction is paid by a
bank message and confirmed by a signed webhook; RSS is read once all webhooks
are delivered. The Python load generator, not paycue, usually limits the rate
here: `cargo bench --bench engine` measures throughput properly.
"""
import argparse
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
HUMO_BOT = 856254490


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(test, what, limit=20.0):
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if test():
            return
        time.sleep(0.001)
    sys.exit(f"footprint: {what} not ready within {limit} s")


def proc_kib(pid, field):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def get(port, path):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request("GET", path)
        resp = conn.getresponse()
        return resp.status, resp.read().decode()
    except OSError:
        return None, ""
    finally:
        conn.close()


def redis_used_memory(sock):
    """used_memory from INFO memory, over the unix socket (RESP by hand)."""
    with socket.socket(socket.AF_UNIX) as s:
        s.connect(sock)
        s.sendall(b"INFO memory\r\n")
        data = b""
        while b"\r\n" not in data:
            data += s.recv(65536)
        header, rest = data.split(b"\r\n", 1)
        size = int(header[1:])
        while len(rest) < size:
            rest += s.recv(65536)
    for line in rest.decode().splitlines():
        if line.startswith("used_memory:"):
            return int(line.split(":")[1])
    return 0


def humo_credit(amount, message_id):
    whole = f"{amount:,}".replace(",", ".")
    text = f"🎉 Пополнение\n➕ {whole},00 UZS\n📍 NBU P2P HUMOHUMO>tas\n💳 HUMOCARD *7466\n🕓 12:36 02.10.2025\n💰 3.040,61 UZS"
    return json.dumps({"sender_id": HUMO_BOT, "message_id": message_id, "text": text})


class Paycue:
    def __init__(self, binary, env, port):
        self.port = port
        started = time.perf_counter()
        self.proc = subprocess.Popen(
            [binary, "run", "--source", "stdin", "--store", "redis"],
            env=env, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL, text=True,
        )
        wait_until(lambda: get(port, "/health")[0] == 200, "paycue")
        self.ready_ms = (time.perf_counter() - started) * 1000
        self.lock = threading.Lock()

    def send(self, line):
        with self.lock:
            self.proc.stdin.write(line + "\n")
            self.proc.stdin.flush()

    def metric(self, name):
        _, text = get(self.port, "/metrics")
        for line in text.splitlines():
            if line.startswith(name + " "):
                return float(line.split()[1])
        return 0.0

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=30)


def load(paycue, creates, clients):
    """CLIENTS threads create transactions; each is paid at once."""
    counter = iter(range(creates))
    counter_lock = threading.Lock()
    errors = []

    def client():
        conn = http.client.HTTPConnection("127.0.0.1", paycue.port, timeout=30)
        while True:
            with counter_lock:
                i = next(counter, None)
            if i is None:
                return
            price = 1000 * (1 + i % 1000)  # 1000 prices, a few orders each
            conn.request("POST", "/transactions", body=json.dumps({"amount": price}),
                         headers={"Content-Type": "application/json"})
            resp = conn.getresponse()
            body = json.loads(resp.read())
            if resp.status != 201:
                errors.append(body)
                continue
            paycue.send(humo_credit(int(body["data"]["amount"]), 1_000_000 + i))

    started = time.perf_counter()
    threads = [threading.Thread(target=client) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    seconds = time.perf_counter() - started
    if errors:
        sys.exit(f"footprint: {len(errors)} creates failed, first: {errors[0]}")
    return creates / seconds


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--binary", default=os.path.join(ROOT, "target/release/paycue"))
    parser.add_argument("--creates", type=int, default=5000)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--starts", type=int, default=5, help="start-ups to time")
    args = parser.parse_args()
    if not os.access(args.binary, os.X_OK):
        sys.exit(f"footprint: no binary at {args.binary}; build it: cargo build --release --locked")

    with tempfile.TemporaryDirectory() as tmp:
        sock = os.path.join(tmp, "redis.sock")
        redis = subprocess.Popen(
            ["redis-server", "--port", "0", "--unixsocket", sock, "--save", "", "--appendonly", "no", "--dir", tmp],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        hook_port = free_port()
        receiver = subprocess.Popen(
            [sys.executable, os.path.join(ROOT, "examples/python/receiver.py")],
            env={**os.environ, "WEBHOOK_SECRET": SECRET, "PORT": str(hook_port)},
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            wait_until(lambda: os.path.exists(sock), "redis-server")
            wait_until(lambda: get(hook_port, "/")[0] is not None, "webhook receiver")
            port = free_port()
            env = {"PATH": os.environ.get("PATH", ""), "REDIS_ADDR": f"redis+unix://{sock}",
                   "PORT": str(port), "WEBHOOK_URL": f"http://127.0.0.1:{hook_port}/paycue",
                   "WEBHOOK_SECRET": SECRET, "RUST_LOG": "warn"}
            starts = []
            for _ in range(args.starts):
                p = Paycue(args.binary, env, port)
                starts.append(p.ready_ms)
                p.stop()
            paycue = Paycue(args.binary, env, port)
            time.sleep(5)
            idle_rss, idle_hwm = proc_kib(paycue.proc.pid, "VmRSS"), proc_kib(paycue.proc.pid, "VmHWM")
            redis_before = redis_used_memory(sock)
            rate = load(paycue, args.creates, args.clients)
            wait_until(lambda: paycue.metric("paycue_webhook_attempts_total") >= args.creates, "webhooks", 300)
            confirmed = paycue.metric("paycue_transactions_confirmed_total")
            load_rss, load_hwm = proc_kib(paycue.proc.pid, "VmRSS"), proc_kib(paycue.proc.pid, "VmHWM")
            per_tx = (redis_used_memory(sock) - redis_before) / args.creates
            paycue.stop()
        finally:
            for p in (receiver, redis):
                p.terminate()
                p.wait()

    size = os.path.getsize(args.binary)
    mib = lambda kib: f"{kib / 1024:.1f} MiB"
    print(f"| figure | value |\n|---|---|")
    print(f"| binary size (`{os.path.relpath(args.binary, ROOT)}`) | {size / 1048576:.1f} MiB ({size} bytes) |")
    print(f"| start-up to ready (`/health` 200), median of {len(starts)} | {statistics.median(starts):.0f} ms (max {max(starts):.0f} ms) |")
    print(f"| RSS idle (after 5 s) | {mib(idle_rss)} (peak {mib(idle_hwm)}) |")
    print(f"| RSS after load: {args.creates} creates by {args.clients} clients, each paid and confirmed by webhook | {mib(load_rss)} (peak {mib(load_hwm)}) |")
    print(f"| creates/s during that load (Python client-bound) | {rate:.0f} ({int(confirmed)} confirmed) |")
    print(f"| Redis memory per paid transaction (with its credit and webhook event) | {per_tx / 1024:.1f} KiB |")


if __name__ == "__main__":
    main()
