#!/usr/bin/env python3
"""Runs the same unpipelined load against redis-server, Rustis and uring-eval's two loops,
alternating rounds, and prints each server's requests per second and server CPU time per
request (user + system, from /proc), medians over the rounds.

    python3 bench/uring-eval/drive.py --eval-bin PATH --rustis-bin PATH [--rounds 3]
        [--clients 50] [--requests 200000] [--tests set,get] [--strace]

With --strace, one more round per server counts its system calls (strace -c -f), which slows
the servers down, so its figures are reported apart from the timed rounds.
"""

import argparse
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

TICK = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu_seconds(pid: int) -> float:
    """User + system time of every thread of pid."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def wait_up(port: int) -> None:
    for _ in range(300):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2) as s:
                s.sendall(b"*1\r\n$4\r\nPING\r\n")
                if s.recv(16).startswith(b"+PONG"):
                    return
        except OSError:
            pass
        time.sleep(0.05)
    raise SystemExit(f"server on {port} did not answer PING")


def start(kind: str, args, port: int):
    if kind == "redis":
        cmd = ["redis-server", "--port", str(port), "--save", "", "--appendonly", "no"]
    elif kind == "rustis":
        cmd = [args.rustis_bin, "--port", str(port), "--threads", "1", "--save", ""]
    else:
        cmd = [args.eval_bin, kind, str(port)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_up(port)
    return proc


def wait_traced(pid: int) -> None:
    """Waits until every thread of pid has a tracer (strace has attached)."""
    for _ in range(400):
        tasks = os.listdir(f"/proc/{pid}/task")
        traced = 0
        for t in tasks:
            with open(f"/proc/{pid}/task/{t}/status") as f:
                traced += any(l.startswith("TracerPid:") and l.split()[1] != "0" for l in f)
        if tasks and traced == len(tasks):
            return
        time.sleep(0.025)
    raise SystemExit(f"strace did not attach to {pid}")


def bench(port: int, test: str, args) -> float:
    out = subprocess.run(
        ["redis-benchmark", "-p", str(port), "-t", test, "-c", str(args.clients),
         "-n", str(args.requests), "-r", "100000", "--csv"],
        capture_output=True, text=True, check=True).stdout
    line = [l for l in out.splitlines() if l.startswith('"') and not l.startswith('"test"')][0]
    return float(line.split(",")[1].strip('"'))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--eval-bin", required=True)
    ap.add_argument("--rustis-bin", required=True)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--requests", type=int, default=200000)
    ap.add_argument("--tests", default="set,get")
    ap.add_argument("--servers", default="redis,rustis,epoll,uring")
    ap.add_argument("--strace", action="store_true")
    args = ap.parse_args()
    servers = args.servers.split(",")
    tests = args.tests.split(",")
    res = {(s, t): [] for s in servers for t in tests}
    for r in range(args.rounds):
        for s in servers:
            port = free_port()
            proc = start(s, args, port)
            try:
                for t in tests:
                    before = cpu_seconds(proc.pid)
                    rps = bench(port, t, args)
                    used = cpu_seconds(proc.pid) - before
                    res[(s, t)].append((rps, used / args.requests * 1e6))
            finally:
                proc.kill()
                proc.wait()
    print(f"{args.clients} clients, {args.requests} requests, no pipelining, "
          f"medians of {args.rounds} alternated rounds")
    print(f"{'server':8} {'test':5} {'rps':>10} {'CPU us/req':>11} {'rps/redis':>10} {'CPU/redis':>10}")
    for t in tests:
        base = res.get(("redis", t))
        b_rps = statistics.median(x[0] for x in base) if base else None
        b_cpu = statistics.median(x[1] for x in base) if base else None
        for s in servers:
            rps = statistics.median(x[0] for x in res[(s, t)])
            cpu = statistics.median(x[1] for x in res[(s, t)])
            ratio = (f"{rps / b_rps:10.2f} {cpu / b_cpu:10.2f}" if b_rps else "")
            print(f"{s:8} {t:5} {rps:10.0f} {cpu:11.2f} {ratio}")
    if args.strace:
        print("\nsystem calls per request (strace -c -f, one round, slowed by strace):")
        for s in servers:
            port = free_port()
            with tempfile.NamedTemporaryFile(suffix=".strace") as log:
                proc = start(s, args, port)
                tracer = subprocess.Popen(["strace", "-c", "-f", "-o", log.name, "-p", str(proc.pid)],
                                          stderr=subprocess.DEVNULL)
                wait_traced(proc.pid)
                for t in tests:
                    bench(port, t, args)
                tracer.send_signal(signal.SIGINT)  # detaches and writes the summary
                tracer.wait()
                proc.kill()
                proc.wait()
                total = len(tests) * args.requests
                calls = {}
                for line in open(log.name):
                    parts = line.split()
                    if len(parts) >= 5 and parts[0][0].isdigit() and parts[-1] != "total":
                        calls[parts[-1]] = int(parts[3])
                top = sorted(calls.items(), key=lambda kv: -kv[1])[:5]
                desc = ", ".join(f"{name} {n / total:.2f}" for name, n in top)
                print(f"  {s:8} {desc}")


if __name__ == "__main__":
    sys.exit(main())
