#!/usr/bin/env python3
"""Time and peak memory of `paycue export` over many transactions in Redis.

    cargo build --release --locked
    python3 scripts/export_load.py [--binary target/release/paycue] [--rows 100000 10000]

For each row count: starts a private redis-server (temporary unix socket, no
persistence) and paycue (`run --source stdin --store redis`), creates that
many transactions through `POST /transactions` with wrk (random prices, each
with metadata `order_id` and `customer`), stops paycue, then runs
`paycue export --format csv|xlsx --out FILE` under /usr/bin/time: wall time,
peak RSS (the export's whole process) and the file's size and rows. Two row
counts show whether memory grows with the rows. Needs wrk and /usr/bin/time
(Debian packages wrk, time). Prints a Markdown table. Linux only.
"""
import argparse
import os
import re
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from create_load import free_port, redis_cli, wait_until  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

WRK_CREATE = """
math.randomseed(%d)
local n = 0
local made = 0
local limit = %d
response = function(status, headers, body)
  if status == 201 then made = made + 1 end
  if made >= limit then wrk.thread:stop() end
end
request = function()
  n = n + 1
  local body = '{"amount": ' .. math.random(1000, 50000000) ..
    ', "metadata": {"order_id": "O-' .. n .. '-' .. math.random(1, 1000000) ..
    '", "customer": "Buyer ' .. math.random(1, 5000) .. '"}}'
  return wrk.format("POST", "/transactions", {["Content-Type"] = "application/json"}, body)
end
"""


def count(sock):
    return int(redis_cli(sock, "ZCARD", "paycue:txs:all").strip() or 0)


def fill(base, sock, rows, tmp):
    round_ = 0
    while count(sock) < rows:
        round_ += 1
        script = os.path.join(tmp, f"create{round_}.lua")
        left = rows - count(sock)
        # Each of wrk's 2 threads stops after its share of created (201) ones.
        with open(script, "w") as f:
            f.write(WRK_CREATE % (round_, max(1, left // 2)))
        seconds = 60
        subprocess.run(["wrk", "-t2", "-c16", f"-d{seconds}s", "-s", script, f"{base}/transactions"],
                       capture_output=True, check=True)
    return count(sock)


def timed_export(binary, env, fmt, out):
    res = subprocess.run(["/usr/bin/time", "-v", binary, "export", "--format", fmt, "--out", out],
                         env=env, capture_output=True, text=True)
    if res.returncode != 0:
        sys.exit(f"export_load: export {fmt} failed: {res.stderr[-2000:]}")
    wall = re.search(r"Elapsed \(wall clock\) time .*: (?:(\d+):)?(\d+):([\d.]+)", res.stderr)
    h, m, s = wall.groups()
    seconds = int(h or 0) * 3600 + int(m) * 60 + float(s)
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", res.stderr).group(1))
    return seconds, rss


def one(binary, rows):
    with tempfile.TemporaryDirectory() as tmp:
        sock = os.path.join(tmp, "redis.sock")
        redis = subprocess.Popen(
            ["redis-server", "--port", "0", "--unixsocket", sock, "--save", "", "--appendonly", "no", "--dir", tmp],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        port = free_port()
        env = dict(os.environ, REDIS_ADDR=f"unix://{sock}", PORT=str(port), LIMIT="1000",
                   WATCH_ID="856254490", RUST_LOG="warn", SESSION_DIR=tmp, TX_TTL="1h")
        for key in ("API_KEY", "WEBHOOK_URL", "CARDS", "ROUND_STEP"):
            env.pop(key, None)
        try:
            wait_until(lambda: os.path.exists(sock), "redis-server")
            paycue = subprocess.Popen([binary, "run", "--source", "stdin", "--store", "redis"], env=env,
                                      stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                      stderr=subprocess.DEVNULL, cwd=tmp)
            import socket
            wait_until(lambda: socket.create_connection(("127.0.0.1", port), timeout=1).close() is None, "paycue")
            made = fill(f"http://127.0.0.1:{port}", sock, rows, tmp)
            paycue.send_signal(signal.SIGTERM)
            paycue.wait(timeout=30)
            used = re.search(r"used_memory_human:(\S+)", redis_cli(sock, "INFO", "memory")).group(1)
            out = []
            for fmt in ("csv", "xlsx"):
                path = os.path.join(tmp, f"export.{fmt}")
                seconds, rss = timed_export(binary, env, fmt, path)
                size = os.path.getsize(path)
                out.append((fmt, seconds, rss, size))
            return made, used, out
        finally:
            redis.terminate()
            redis.wait(timeout=10)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", default=os.path.join(ROOT, "target/release/paycue"))
    ap.add_argument("--rows", type=int, nargs="+", default=[100_000, 10_000])
    args = ap.parse_args()
    print("| transactions in Redis | format | wall time | rows/s | peak RSS of `paycue export` | file |")
    print("|---|---|---|---|---|---|")
    for rows in args.rows:
        made, used, out = one(args.binary, rows)
        for fmt, seconds, rss, size in out:
            print(f"| {made:,} (Redis {used}) | {fmt} | {seconds:.1f} s | {made / seconds:,.0f} | "
                  f"{rss / 1024:.1f} MiB | {size / 1048576:.1f} MiB |")


if __name__ == "__main__":
    main()
