#!/usr/bin/env python3
"""Create throughput against /health, and Redis time per create, with wrk.

    cargo build --release --locked
    python3 scripts/create_load.py [--binary target/release/paycue] [--seconds 10] [--connections 32]

Starts a private redis-server (temporary unix socket, no persistence) and
paycue (`run --source stdin --store redis`, LIMIT=1000, no API key, no
webhook URL), then runs wrk (`apt-get install wrk`) twice against the same
daemon: `GET /health`, then `POST /transactions` with random whole prices
from 1 000 to 1 000 000 (so windows of LIMIT overlap and some creates search
past taken offsets). Between the runs it resets Redis's `INFO commandstats`
and reads it after the create run: the Redis time per create script call
(EVALSHA usec_per_call), and the commands the scripts ran per create. It
also reads the CPU time paycue and Redis used during the create run
(/proc/<pid>/stat). Prints a Markdown table. Linux only.
"""
import argparse
import os
import re
import socket
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

WRK_CREATE = """
math.randomseed(42)
request = function()
  local body = '{"amount": ' .. math.random(1000, 1000000) .. '}'
  return wrk.format("POST", "/transactions", {["Content-Type"] = "application/json"}, body)
end
done = function(summary, latency, requests)
  local bad = summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout
  io.write(string.format("ERRORS %d\\n", bad))
end
"""

# /health with a request built by a Lua function as the create run's is, so
# that wrk spends the same on each request of both runs (a static request
# costs wrk far less than a scripted one, and on two cores wrk's share sets
# the rate of whichever run it runs).
WRK_HEALTH_SCRIPTED = """
math.randomseed(42)
request = function()
  local q = 'r=' .. math.random(1000, 1000000)
  return wrk.format("GET", "/health?" .. q, {["Content-Type"] = "application/json"})
end
"""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(test, what, limit=20.0):
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        try:
            if test():
                return
        except OSError:
            pass
        time.sleep(0.01)
    sys.exit(f"create_load: {what} not ready within {limit} s")


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def redis_cli(sock, *args):
    return subprocess.run(["redis-cli", "-s", sock, *args], capture_output=True, text=True, check=True).stdout


def commandstats(sock):
    stats = {}
    for line in redis_cli(sock, "INFO", "commandstats").splitlines():
        m = re.match(r"cmdstat_(\w+):calls=(\d+),usec=(\d+),usec_per_call=([\d.]+)", line)
        if m:
            stats[m.group(1)] = (int(m.group(2)), int(m.group(3)), float(m.group(4)))
    return stats


def wrk(url, seconds, connections, script=None):
    cmd = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency"]
    if script:
        cmd += ["-s", script]
    out = subprocess.run(cmd + [url], capture_output=True, text=True, check=True).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    errors = re.search(r"ERRORS (\d+)", out)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return rate, int(non2xx.group(1)) if non2xx else 0, out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", default=os.path.join(ROOT, "target/release/paycue"))
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--connections", type=int, default=32)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        sock = os.path.join(tmp, "redis.sock")
        redis = subprocess.Popen(
            ["redis-server", "--port", "0", "--unixsocket", sock, "--save", "", "--appendonly", "no", "--dir", tmp],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        port = free_port()
        env = dict(os.environ, REDIS_ADDR=f"unix://{sock}", PORT=str(port), LIMIT="1000",
                   WATCH_ID="856254490", RUST_LOG="warn", SESSION_DIR=tmp)
        for key in ("API_KEY", "WEBHOOK_URL", "CARDS", "ROUND_STEP"):
            env.pop(key, None)
        paycue = None
        try:
            wait_until(lambda: os.path.exists(sock), "redis-server")
            paycue = subprocess.Popen(
                [args.binary, "run", "--source", "stdin", "--store", "redis"],
                env=env, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=tmp,
            )
            wait_until(lambda: socket.create_connection(("127.0.0.1", port), timeout=1).close() is None, "paycue")
            base = f"http://127.0.0.1:{port}"
            health, health_bad, _ = wrk(f"{base}/health", args.seconds, args.connections)
            hscript = os.path.join(tmp, "health.lua")
            with open(hscript, "w") as f:
                f.write(WRK_HEALTH_SCRIPTED)
            cpu0 = (cpu_seconds(paycue.pid), cpu_seconds(redis.pid))
            health_s, _, _ = wrk(f"{base}/health", args.seconds, args.connections, hscript)
            cpu1 = (cpu_seconds(paycue.pid), cpu_seconds(redis.pid))
            health_cpu = (cpu1[0] - cpu0[0] + cpu1[1] - cpu0[1]) / max(health_s * args.seconds, 1)
            script = os.path.join(tmp, "create.lua")
            with open(script, "w") as f:
                f.write(WRK_CREATE)
            redis_cli(sock, "CONFIG", "RESETSTAT")
            cpu0 = (cpu_seconds(paycue.pid), cpu_seconds(redis.pid))
            creates, create_bad, _ = wrk(f"{base}/transactions", args.seconds, args.connections, script)
            cpu1 = (cpu_seconds(paycue.pid), cpu_seconds(redis.pid))
            stats = commandstats(sock)
            evalsha = stats.get("evalsha", (0, 0, 0.0))
            n = max(evalsha[0], 1)
            inner = {name: v for name, v in stats.items() if name not in ("evalsha", "config")}
            per_create = {name: calls / n for name, (calls, _, _) in inner.items()}
            inner_usec = sum(usec for _, usec, _ in inner.values()) / n
            print(f"| /health | {health:,.0f} req/s | (non-2xx: {health_bad}) |")
            print(f"| /health, request built by a wrk script as for creates | {health_s:,.0f} req/s | |")
            print(f"| create (POST /transactions, random prices, LIMIT 1000) | {creates:,.0f} creates/s = {creates / health:.2f}x /health, {creates / health_s:.2f}x scripted /health | (non-2xx: {create_bad}) |")
            create_cpu = (cpu1[0] - cpu0[0] + cpu1[1] - cpu0[1]) / max(creates * args.seconds, 1)
            print(f"| paycue + Redis CPU per request | /health {health_cpu * 1e6:.0f} µs, create {create_cpu * 1e6:.0f} µs: a daemon with the CPU to itself creates at {health_cpu / create_cpu:.2f}x its /health rate | |")
            print(f"| Redis time per create (EVALSHA usec_per_call) | {evalsha[2]:.1f} µs, of which {inner_usec:.1f} µs in the commands it runs | {evalsha[0]} calls |")
            made = max(stats.get("incr", (1, 0, 0))[0], 1)
            print(f"| CPU during the create run | paycue {(cpu1[0] - cpu0[0]) / args.seconds:.2f} cores, Redis {(cpu1[1] - cpu0[1]) / args.seconds:.2f} cores; Redis CPU per create {(cpu1[1] - cpu0[1]) / made * 1e6:.0f} µs (its network work included) | |")
            print("| commands per create | " + ", ".join(f"{k} {v:.2f}" for k, v in sorted(per_create.items(), key=lambda kv: -kv[1])) + " | |")
        finally:
            if paycue:
                paycue.terminate()
                paycue.wait(timeout=10)
            redis.terminate()
            redis.wait(timeout=10)


if __name__ == "__main__":
    main()
