#!/usr/bin/env python3
# /// script
# requires-python = ">=3.9"
# dependencies = []
# ///
"""Run the Rustis macro benchmarks against Rustis and redis-server, side by side.

The script starts every server itself on a free loopback port, fresh for each
workload, and alternates the targets (redis, rustis, redis, rustis, ...) for
``--repeat`` rounds. It keeps the median of each figure, so drift on a noisy,
shared machine hits both targets alike. Results are appended to a CSV file
(``bench/benchmarks.csv`` by default) that ``generate_report.py`` reads.

Load comes from ``redis-benchmark`` with the published parameters of each
workload, except the memory workload, which uses a pipelined loader written
here so that exactly one million distinct keys are stored.

Linux only: CPU time and RSS come from /proc.
"""

from __future__ import annotations

import argparse
import atexit
import csv
import ctypes
import io
import math
import os
import platform
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Dict, Iterable, List, Optional, Sequence, Tuple

# The repository root is wherever this script lives; cargo runs there.
REPO_ROOT = Path(__file__).resolve().parent
DEFAULT_CSV = REPO_ROOT / "bench" / "benchmarks.csv"

# The columns that users of the original script rely on, in its order. The
# trailing "Bytes/key" column is only filled by the memory workload and "Hit rate"
# only by the eviction workload; readers that select columns by name are not
# affected by them.
CSV_COLUMNS = [
    "Timestamp",
    "Git Hash",
    "Note",
    "Target",
    "Threads",
    "Test Name",
    "Command",
    "RPS",
    "Latency (p50)",
    "Latency (p99)",
    "CPU us/op",
    "RSS MB",
    "Bytes/key",
    "Hit rate",
]

# One row per run in a sidecar file next to the results CSV, so that the
# results CSV itself stays a plain table.
MACHINE_COLUMNS = [
    "Timestamp",
    "Git Hash",
    "Label",
    "Cores",
    "CPU Model",
    "Memory GB",
    "Kernel",
    "Redis Version",
    "Rustis Threads",
    "Repeat",
    "Scale",
]

CLK_TCK = os.sysconf("SC_CLK_TCK")  # Units of utime/stime in /proc/PID/stat.

TARGETS = ("redis", "rustis")  # Also the order in which a round runs them.

INSTALL_HINT = (
    "redis-server and redis-benchmark are needed. On Debian or Ubuntu:\n"
    "    sudo apt-get install redis-server redis-tools"
)

# 2,000 benchmark clients plus the server's own descriptors need more than
# the usual soft limit of 1,024 open files.
WANTED_NOFILE = 16384

# The eval workload's script: one GET and one SET of its key, as rate limiters and caches do.
EVAL_SCRIPT = "redis.call('GET', KEYS[1]) return redis.call('SET', KEYS[1], ARGV[1])"


@dataclass(frozen=True)
class Workload:
    """A fixed benchmark with published parameters.

    ``tests`` are redis-benchmark test names, in redis-benchmark's own order
    (it always runs LPUSH before LPOP and SADD before SPOP, whatever the order
    given to ``-t``). Each test runs as its own redis-benchmark invocation
    against the same server, so that server CPU time can be charged to one
    command; redis-benchmark opens fresh clients for every test anyway.
    """

    name: str
    description: str
    published: str  # The redis-benchmark flags as published.
    tests: Tuple[str, ...] = ()
    args: Tuple[str, ...] = ()
    requests: int = 0
    memory_keys: int = 0  # Non-zero for the memory workloads.
    key_size: int = 16
    value_size: int = 32
    memory_kind: str = "strings"  # What a memory workload stores: "strings" or "stream".
    eviction_keys: int = 0  # Non-zero for the eviction workload: the working set's keys.

    @property
    def is_memory(self) -> bool:
        return self.memory_keys > 0

    @property
    def is_eviction(self) -> bool:
        return self.eviction_keys > 0


WORKLOADS: Tuple[Workload, ...] = (
    Workload(
        name="sanity",
        description="PING round trips; checks that the server answers at all.",
        published="-t ping -n 1000",
        tests=("ping_inline", "ping_mbulk"),
        requests=1000,
    ),
    Workload(
        name="regular",
        description="SET/GET on one key, 50 clients, no pipelining: latency-bound.",
        published="-t set,get -n 200000",
        tests=("set", "get"),
        requests=200_000,
    ),
    Workload(
        name="high-concurrency",
        description="2,000 clients, pipeline 32, 100k keys, strings, lists and sets.",
        published="-t set,get,lpush,lpop,sadd,spop -c 2000 -P 32 -n 1000000 -r 100000",
        tests=("set", "get", "lpush", "lpop", "sadd", "spop"),
        args=("-c", "2000", "-P", "32", "-r", "100000"),
        requests=1_000_000,
    ),
    Workload(
        name="heavy-payload",
        description="4 KiB values, 1,000 clients, pipeline 16: memory bandwidth.",
        published="-t set,get -c 1000 -P 16 -d 4096 -n 500000 -r 100000",
        tests=("set", "get"),
        args=("-c", "1000", "-P", "16", "-d", "4096", "-r", "100000"),
        requests=500_000,
    ),
    Workload(
        name="multi-key",
        description="MSET and MGET of 10 uniformly random keys each (mget runs "
                    "MGET key:__rand_int__ x10), 50 clients, pipeline 16: commands whose "
                    "keys span every thread.",
        published="-t mset,mget -c 50 -P 16 -n 200000 -r 100000",
        tests=("mset", "mget"),
        args=("-c", "50", "-P", "16", "-r", "100000"),
        requests=200_000,
    ),
    Workload(
        name="unpipelined",
        description="SET/GET of 100k random keys, 50 clients, no pipelining: what an ordinary "
                    "application sends (one command, then wait); with several threads about "
                    "(N-1)/N of the commands are for a key another thread owns.",
        published="-t set,get -c 50 -n 200000 -r 100000",
        tests=("set", "get"),
        args=("-c", "50", "-r", "100000"),
        requests=200_000,
    ),
    Workload(
        name="unpipelined-500",
        description="As unpipelined, with 500 clients: a busy web tier's connection pools.",
        published="-t set,get -c 500 -n 200000 -r 100000",
        tests=("set", "get"),
        args=("-c", "500", "-r", "100000"),
        requests=200_000,
    ),
    Workload(
        name="eval",
        description="Scripts and transactions, 50 clients, no pipelining: eval runs EVAL of a "
                    "script doing one GET and one SET of a random key (redis-benchmark); "
                    "multi-exec runs MULTI, SET of a random key, INCR of a random counter, EXEC "
                    "(benchmark.py's own Python client, one transaction per round trip: its rate is "
                    "bounded by the client, so compare the server CPU per transaction).",
        published="-t eval,multi-exec -c 50 -n 200000 -r 100000",
        tests=("eval", "multi-exec"),
        args=("-c", "50", "-r", "100000"),
        requests=200_000,
    ),
    Workload(
        name="streams",
        description="Streams as job queues use them, 50 clients, no pipelining: xadd runs XADD "
                    "of one field to one of 100 streams, trimmed with MAXLEN ~ 1000 "
                    "(redis-benchmark); xreadgroup-xack takes one entry with XREADGROUP and "
                    "acknowledges it with XACK, from a stream preloaded with one entry per "
                    "request (benchmark.py's own Python client, one job per two round trips: "
                    "compare the server CPU per job).",
        published="-t xadd,xreadgroup-xack -c 50 -n 200000 -r 100",
        tests=("xadd", "xreadgroup-xack"),
        args=("-c", "50", "-r", "100"),
        requests=200_000,
    ),
    Workload(
        name="geo",
        description="Geo indexes, 50 clients, no pipelining: geoadd runs GEOADD of a random "
                    "member; geosearch runs GEOSEARCH FROMMEMBER of a random member BYRADIUS "
                    "2 km ASC COUNT 10 over 100,000 members preloaded in a 2 x 2 degree square "
                    "(about 30 within the radius).",
        published="-t geoadd,geosearch -c 50 -n 200000 -r 100000",
        tests=("geoadd", "geosearch"),
        args=("-c", "50", "-r", "100000"),
        requests=200_000,
    ),
    Workload(
        name="pubsub",
        description="Pub/sub fan-out: one publisher pipelining PUBLISH (32 per batch, 16-byte "
                    "messages) to one channel with 1, 10 and 100 subscribers (publish-N; "
                    "benchmark.py's own Python clients, subscribers in processes of up to 25 "
                    "connections). PUBLISH-N is the publisher's rate and latency per batch, "
                    "DELIVER-N the messages received by all subscribers per second, until the "
                    "last one has every message.",
        published="-t publish-1,publish-10,publish-100 -P 32 -n 200000",
        tests=("publish-1", "publish-10", "publish-100"),
        args=("-P", "32"),
        requests=200_000,
    ),
    Workload(
        name="memory",
        description="1,000,000 distinct keys (16-byte keys, 32-byte values): RSS per key.",
        published="pipelined loader, 1000000 SETs of distinct keys",
        memory_keys=1_000_000,
    ),
    Workload(
        name="stream-memory",
        description="One stream of 1,000,000 entries (one 5-byte field, 32-byte values, "
                    "automatic IDs): RSS per entry.",
        published="pipelined loader, 1000000 XADDs to one stream",
        memory_keys=1_000_000,
        memory_kind="stream",
    ),
    Workload(
        name="eviction",
        description="A cache under maxmemory: 200,000 keys (16-byte keys, 100-byte values) "
                    "loaded, then maxmemory set to the empty server's memory plus half what "
                    "they took, with allkeys-lru; one pipelined client (benchmark.py's own) "
                    "reads keys of Zipfian popularity (s = 0.99, the same sequence for both "
                    "servers) and SETs each one it misses, as a cache fills itself: hit rate "
                    "of the measured reads, after as many warm-up reads.",
        published="own client: 200000 keys, maxmemory = half their size, allkeys-lru, "
                  "200000 Zipfian GETs (SET on miss) after 200000 warm-up",
        requests=200_000,
        value_size=100,
        eviction_keys=200_000,
    ),
)
WORKLOAD_NAMES = tuple(w.name for w in WORKLOADS)


@dataclass
class Measurement:
    """One figure set for one command of one workload on one target."""

    workload: str
    target: str
    command: str
    rps: Optional[float] = None
    p50_ms: Optional[float] = None
    p99_ms: Optional[float] = None
    cpu_us_per_op: Optional[float] = None
    rss_mb: Optional[float] = None
    bytes_per_key: Optional[float] = None
    hit_rate: Optional[float] = None


METRICS = ("rps", "p50_ms", "p99_ms", "cpu_us_per_op", "rss_mb", "bytes_per_key", "hit_rate")


class BenchError(Exception):
    """A failure that ends one measurement, not the whole run."""


# ---------------------------------------------------------------------------
# Pure helpers (unit-tested in tests/bench).
# ---------------------------------------------------------------------------


def parse_benchmark_csv(text: str) -> Dict[str, Dict[str, float]]:
    """Parse the ``--csv`` output of redis-benchmark 6.2+/7.x.

    The format is a header line
    ``"test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms",...``
    followed by one quoted line per test. Lines that are not part of the table
    (warnings) are skipped, and so are values that are not finite. Returns
    ``{test: {column: value}}`` with the test name upper-cased as
    redis-benchmark prints it.
    """
    results: Dict[str, Dict[str, float]] = {}
    header: Optional[List[str]] = None
    for fields in csv.reader(io.StringIO(text)):
        if not fields:
            continue
        if fields[0] == "test":
            header = fields
            continue
        if header is None or len(fields) != len(header):
            continue
        values: Dict[str, float] = {}
        try:
            for name, raw in zip(header[1:], fields[1:]):
                value = float(raw)
                # A run shorter than redis-benchmark's 1 ms clock reports
                # "inf" requests per second; that is no figure at all.
                if math.isfinite(value):
                    values[name] = value
        except ValueError:
            continue
        results[fields[0].upper()] = values
    if header is None:
        raise ValueError("no redis-benchmark CSV header in output")
    return results


def parse_proc_stat_cpu(stat_text: str, clk_tck: int) -> float:
    """Return user+system CPU seconds from the text of /proc/PID/stat.

    The process name (field 2) is in parentheses and may itself contain spaces
    or parentheses, so the fields are counted from the last ``)``. utime and
    stime are fields 14 and 15 and count all threads of the process.
    """
    rest = stat_text[stat_text.rindex(")") + 2 :].split()
    # rest[0] is field 3 (state), so field N is rest[N - 3].
    utime = int(rest[14 - 3])
    stime = int(rest[15 - 3])
    return (utime + stime) / clk_tck


def parse_proc_status_kb(status_text: str, key: str) -> int:
    """Return a ``kB`` figure such as VmRSS or VmHWM from /proc/PID/status."""
    for line in status_text.splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    raise ValueError(f"{key} not found in /proc status")


# CPU time comes in clock ticks (10 ms at the usual 100 Hz); below this many
# ticks the quantisation error passes 10% and the figure is left out.
MIN_CPU_TICKS = 10


def cpu_us_per_op(cpu0: float, cpu1: float, requests: int,
                  clk_tck: int, min_ticks: int = MIN_CPU_TICKS) -> Optional[float]:
    """Server CPU microseconds per request, or None when the CPU time spent
    is too few clock ticks to be a measurement rather than rounding."""
    spent = cpu1 - cpu0
    if requests <= 0 or spent * clk_tck < min_ticks - 1e-9:
        return None
    return spent * 1e6 / requests


def median_or_none(values: Iterable[Optional[float]]) -> Optional[float]:
    """Median of the values that are present, or None if none is."""
    present = [v for v in values if v is not None]
    if not present:
        return None
    return statistics.median(present)


def median_measurements(rounds: Sequence[Measurement]) -> List[Measurement]:
    """Collapse repeated rounds into one Measurement per (workload, target,
    command), taking the median of each figure on its own.

    The output keeps the order in which each key first appears.
    """
    groups: Dict[Tuple[str, str, str], List[Measurement]] = {}
    for m in rounds:
        groups.setdefault((m.workload, m.target, m.command), []).append(m)
    merged = []
    for (workload, target, command), ms in groups.items():
        figures = {k: median_or_none(getattr(m, k) for m in ms) for k in METRICS}
        merged.append(Measurement(workload, target, command, **figures))
    return merged


def ratio(numerator: Optional[float], denominator: Optional[float]) -> Optional[float]:
    """numerator/denominator, or None when either is missing or the
    denominator is zero (a ratio against nothing means nothing)."""
    if numerator is None or denominator is None or denominator == 0:
        return None
    return numerator / denominator


def ratio_rows(
    medians: Sequence[Measurement], target: str = "rustis", baseline: str = "redis"
) -> List[Tuple[str, str, Dict[str, Optional[float]]]]:
    """Per workload and command, target/baseline ratios of every figure."""
    index = {(m.workload, m.target, m.command): m for m in medians}
    rows = []
    seen = set()
    for m in medians:
        key = (m.workload, m.command)
        if key in seen:
            continue
        seen.add(key)
        t = index.get((m.workload, target, m.command))
        b = index.get((m.workload, baseline, m.command))
        if t is None or b is None:
            continue
        rows.append(
            (m.workload, m.command, {k: ratio(getattr(t, k), getattr(b, k)) for k in METRICS})
        )
    return rows


def format_ratio_table(rows: Sequence[Tuple[str, str, Dict[str, Optional[float]]]]) -> str:
    """Markdown table of Rustis/Redis ratios. For RPS above 1 is better; for
    latency, CPU and memory below 1 is better."""

    def cell(value: Optional[float]) -> str:
        return "–" if value is None else f"{value:.2f}"

    lines = [
        "| Test Name | Cmd | RPS | p50 | p99 | CPU us/op | RSS | Bytes/key | Hit rate |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for workload, command, r in rows:
        lines.append(
            f"| {workload} | {command} | {cell(r['rps'])} | {cell(r['p50_ms'])} | "
            f"{cell(r['p99_ms'])} | {cell(r['cpu_us_per_op'])} | {cell(r['rss_mb'])} | "
            f"{cell(r['bytes_per_key'])} | {cell(r.get('hit_rate'))} |"
        )
    return "\n".join(lines)


def num(value: Optional[float], digits: int) -> str:
    """A figure for people: thousands separators, or a dash if missing."""
    return "–" if value is None else f"{value:,.{digits}f}"


def format_results_table(medians: Sequence[Measurement]) -> str:
    """Markdown table of the median figures of every target."""
    cell = num

    lines = [
        "| Test Name | Target | Cmd | RPS | p50 (ms) | p99 (ms) | CPU us/op | RSS MB | Bytes/key "
        "| Hit rate |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for m in medians:
        lines.append(
            f"| {m.workload} | {m.target} | {m.command} | {cell(m.rps, 0)} | "
            f"{cell(m.p50_ms, 3)} | {cell(m.p99_ms, 3)} | {cell(m.cpu_us_per_op, 2)} | "
            f"{cell(m.rss_mb, 1)} | {cell(m.bytes_per_key, 1)} | {cell(m.hit_rate, 3)} |"
        )
    return "\n".join(lines)


def scaled(workload: Workload, scale: float) -> Workload:
    """A copy of the workload with request and key counts multiplied by
    ``scale`` (for quick trials only; the name records the scale so that
    scaled results never mix with full ones)."""
    if scale == 1:
        return workload
    return replace(
        workload,
        name=f"{workload.name}@{scale:g}",
        requests=max(1, int(workload.requests * scale)) if workload.requests else 0,
        memory_keys=max(1, int(workload.memory_keys * scale)) if workload.memory_keys else 0,
        eviction_keys=(max(1, int(workload.eviction_keys * scale))
                       if workload.eviction_keys else 0),
    )


def parse_list_option(text: str, allowed: Sequence[str], what: str) -> List[str]:
    """Split a comma-separated option and check each item; keeps the order
    of ``allowed`` so that a run is the same whatever order was typed."""
    items = [t.strip() for t in text.split(",") if t.strip()]
    unknown = [t for t in items if t not in allowed]
    if unknown:
        raise argparse.ArgumentTypeError(
            f"unknown {what}: {', '.join(unknown)} (choose from {', '.join(allowed)})"
        )
    if not items:
        raise argparse.ArgumentTypeError(f"no {what} given")
    return [a for a in allowed if a in items]


def encode_command(*args: bytes) -> bytes:
    """Encode one command as a RESP array of bulk strings."""
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


def memory_key(i: int, key_size: int = 16) -> bytes:
    """The i-th key of the memory workload: ``key:`` and zero-padded digits,
    exactly ``key_size`` bytes, distinct for every i below 10**(key_size-4)."""
    return b"key:" + str(i).encode().rjust(key_size - 4, b"0")


def memory_value(i: int, value_size: int = 32) -> bytes:
    """The value stored under memory_key(i): exactly ``value_size`` bytes,
    different per key so that no server can share them."""
    return b"val:" + str(i).encode().rjust(value_size - 4, b"0")


def set_batch(start: int, stop: int, key_size: int, value_size: int) -> bytes:
    """RESP for SET commands of keys start..stop-1, to be pipelined."""
    klen = b"%d" % key_size
    vlen = b"%d" % value_size
    prefix = b"*3\r\n$3\r\nSET\r\n$" + klen + b"\r\n"
    middle = b"\r\n$" + vlen + b"\r\n"
    return b"".join(
        prefix + memory_key(i, key_size) + middle + memory_value(i, value_size) + b"\r\n"
        for i in range(start, stop)
    )


def xadd_batch(start: int, stop: int, value_size: int) -> bytes:
    """RESP for XADD commands appending entries start..stop-1 to the stream-memory workload's
    stream (automatic IDs), to be pipelined."""
    return b"".join(
        encode_command(b"XADD", STREAM_MEMORY_KEY, b"*", b"field", memory_value(i, value_size))
        for i in range(start, stop)
    )


STREAM_MEMORY_KEY = b"bench:stream"


def count_simple_replies(buf: bytes) -> int:
    """Number of complete one-line replies (``+OK``, ``-ERR ...``) in buf."""
    return buf.count(b"\r\n")


def check_ok_replies(buf: bytes, expected: int) -> None:
    """Raise BenchError unless buf is exactly ``expected`` ``+OK`` replies."""
    if buf == b"+OK\r\n" * expected:
        return
    for line in buf.split(b"\r\n"):
        if line and line != b"+OK":
            raise BenchError(f"loader got {line[:200]!r} instead of +OK")
    raise BenchError(f"loader got {count_simple_replies(buf)} replies, expected {expected}")


def choose_from_menu(
    input_fn: Callable[[str], str], print_fn: Callable[[str], None] = print
) -> Tuple[List[str], Optional[str]]:
    """The original's interactive menu: pick a test or ``a`` for all, then a
    label to save under (empty: do not save). Returns (tests, label)."""
    print_fn("Workloads:")
    for i, w in enumerate(WORKLOADS, 1):
        print_fn(f"  {i}) {w.name:<17} {w.published}")
    print_fn("  a) all of them")
    while True:
        choice = input_fn("Run which workload? [a] ").strip().lower() or "a"
        if choice == "a":
            tests = list(WORKLOAD_NAMES)
            break
        if choice.isdigit() and 1 <= int(choice) <= len(WORKLOADS):
            tests = [WORKLOADS[int(choice) - 1].name]
            break
        if choice in WORKLOAD_NAMES:
            tests = [choice]
            break
        print_fn(f"Please type 1-{len(WORKLOADS)} or a.")
    label = input_fn("Label to save the results under (empty: do not save): ").strip()
    return tests, (label or None)


# ---------------------------------------------------------------------------
# A minimal RESP client, enough for PING, DBSIZE and the functional check.
# ---------------------------------------------------------------------------


class RespClient:
    def __init__(self, port: int, timeout: float = 10.0):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.buf = b""

    def close(self) -> None:
        self.sock.close()

    def __enter__(self) -> "RespClient":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _fill(self) -> None:
        chunk = self.sock.recv(1 << 16)
        if not chunk:
            raise ConnectionError("server closed the connection")
        self.buf += chunk

    def _line(self) -> bytes:
        while True:
            end = self.buf.find(b"\r\n")
            if end >= 0:
                line, self.buf = self.buf[:end], self.buf[end + 2 :]
                return line
            self._fill()

    def _exact(self, n: int) -> bytes:
        while len(self.buf) < n + 2:
            self._fill()
        data, self.buf = self.buf[:n], self.buf[n + 2 :]
        return data

    def read_reply(self) -> object:
        """Decode one reply. Errors come back as an Exception instance (not
        raised) so that callers can compare them."""
        line = self._line()
        kind, rest = line[:1], line[1:]
        if kind == b"+":
            return rest.decode()
        if kind == b"-":
            return RuntimeError(rest.decode(errors="replace"))
        if kind == b":":
            return int(rest)
        if kind == b"$":
            n = int(rest)
            return None if n < 0 else self._exact(n)
        if kind == b"*":
            n = int(rest)
            return None if n < 0 else [self.read_reply() for _ in range(n)]
        if kind == b"_":  # RESP3 null, in case the server speaks it.
            return None
        raise BenchError(f"unexpected reply {line[:100]!r}")

    def call(self, *args: str | bytes) -> object:
        raw = [a if isinstance(a, bytes) else a.encode() for a in args]
        self.sock.sendall(encode_command(*raw))
        return self.read_reply()


# ---------------------------------------------------------------------------
# Processes: servers and redis-benchmark.
# ---------------------------------------------------------------------------

_LIVE_SERVERS: "set[Server]" = set()


def _die_with_parent() -> None:
    """In the child before exec: ask Linux to SIGTERM it if this script dies,
    even by SIGKILL, so that no server outlives a run."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        PR_SET_PDEATHSIG = 1
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):
        pass


def _stop_all_servers() -> None:
    for server in list(_LIVE_SERVERS):
        server.stop()


def _raise_on_signal(signum: int, _frame: object) -> None:
    # Turn SIGTERM/SIGHUP into an exception so that finally blocks stop the
    # servers exactly as after Ctrl-C.
    raise KeyboardInterrupt(f"signal {signum}")


def free_port() -> int:
    """A loopback port that was free a moment ago (the kernel picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def raise_nofile_limit(wanted: int = WANTED_NOFILE) -> int:
    """Raise the soft open-file limit (inherited by the servers and
    redis-benchmark) towards ``wanted``; returns the new soft limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft >= wanted:
        return soft
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if hard != resource.RLIM_INFINITY and hard < wanted:
        try:  # Only root may raise the hard limit; try, then settle.
            resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, wanted))
            return wanted
        except (ValueError, OSError):
            pass
    resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return target


class Server:
    """One server process on a free loopback port, with /proc probes."""

    def __init__(self, target: str, argv_for_port: Callable[[int], List[str]], log_dir: Path):
        self.target = target
        self.argv_for_port = argv_for_port
        self.log_dir = log_dir
        self.proc: Optional[subprocess.Popen] = None
        self.port = 0
        self.log_path = log_dir / f"{target}.log"

    def start(self, timeout: float = 30.0, attempts: int = 3) -> None:
        """Start the server and poll PING until it answers. A port taken
        between free_port() and the server's bind shows up as an early exit;
        then another port is tried."""
        last_error = ""
        for _ in range(attempts):
            self.port = free_port()
            argv = self.argv_for_port(self.port)
            with open(self.log_path, "ab") as log:
                log.write(f"\n$ {' '.join(argv)}\n".encode())
                log.flush()
                self.proc = subprocess.Popen(
                    argv,
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    cwd=self.log_dir,
                    start_new_session=True,  # Ctrl-C reaches us, not it.
                    preexec_fn=_die_with_parent,
                )
            _LIVE_SERVERS.add(self)
            try:
                self._wait_ready(timeout)
                return
            except BenchError as e:
                last_error = str(e)
                self.stop()
        raise BenchError(f"{self.target} did not start: {last_error} (log: {self.log_path})")

    def _wait_ready(self, timeout: float) -> None:
        assert self.proc is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise BenchError(f"exited with status {self.proc.returncode}")
            try:
                with RespClient(self.port, timeout=1.0) as c:
                    if c.call("PING") == "PONG":
                        return
            except (OSError, ConnectionError, BenchError):
                pass
            time.sleep(0.02)  # Poll interval, not a wait for readiness.
        raise BenchError(f"no PONG within {timeout:.0f}s")

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def cpu_seconds(self) -> float:
        with open(f"/proc/{self.pid}/stat") as f:
            return parse_proc_stat_cpu(f.read(), CLK_TCK)

    def status_kb(self, key: str) -> int:
        with open(f"/proc/{self.pid}/status") as f:
            return parse_proc_status_kb(f.read(), key)

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self) -> None:
        proc = self.proc
        _LIVE_SERVERS.discard(self)
        if proc is None or proc.poll() is not None:
            return
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


# The geosearch test's index: GEO_MEMBERS members named as redis-benchmark's __rand_int__
# expands (12 zero-padded digits), spread over a 2 x 2 degree square.
GEO_KEY = "geo:points"
GEO_MEMBERS = 100_000

# Tests redis-benchmark has no built-in for, run as a custom command line: the
# test name, and the command (its CSV row is named by the command line).
CUSTOM_TESTS: Dict[str, Tuple[str, ...]] = {
    "mget": ("MGET",) + ("key:__rand_int__",) * 10,
    "eval": ("EVAL", EVAL_SCRIPT, "1", "key:__rand_int__", "v"),
    "xadd": ("XADD", "stream:__rand_int__", "MAXLEN", "~", "1000", "*", "field", "value"),
    "geoadd": ("GEOADD", "geo:add", "13.361389", "38.115556", "member:__rand_int__"),
    "geosearch": ("GEOSEARCH", GEO_KEY, "FROMMEMBER", "member:__rand_int__", "BYRADIUS", "2",
                  "km", "ASC", "COUNT", "10"),
}

# Tests that benchmark.py drives with its own client (redis-benchmark sends one command per
# request, and a transaction is four, a job two that depend on each other).
OWN_CLIENT_TESTS = ("multi-exec", "xreadgroup-xack", "publish-1", "publish-10", "publish-100")

# The pubsub workload's channel, message and pipeline depth, and how many subscriber
# connections one reading process holds.
PUBSUB_CHANNEL = b"bench:channel"
PUBSUB_MESSAGE = b"m" * 16
PUBSUB_PIPELINE = 32
PUBSUB_PER_PROCESS = 25


def pubsub_frame() -> bytes:
    """The exact bytes of one message a RESP2 subscriber receives: every message has the same
    length, so a subscriber counts bytes instead of parsing."""
    return (b"*3\r\n$7\r\nmessage\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n"
            % (len(PUBSUB_CHANNEL), PUBSUB_CHANNEL, len(PUBSUB_MESSAGE), PUBSUB_MESSAGE))


def _subscribers(port: int, n: int, expected: int, ready: "object", out: "object") -> None:
    """Opens ``n`` subscriber connections to the channel, says so on ``ready``, reads until
    each has ``expected`` messages, and puts the time (perf_counter) the last one completed on
    ``out`` (or an error text)."""
    import selectors
    try:
        confirm = (b"*3\r\n$9\r\nsubscribe\r\n$%d\r\n%s\r\n:1\r\n"
                   % (len(PUBSUB_CHANNEL), PUBSUB_CHANNEL))
        sel = selectors.DefaultSelector()
        left: Dict[socket.socket, int] = {}
        for _ in range(n):
            s = socket.create_connection(("127.0.0.1", port), timeout=60)
            s.sendall(encode_command(b"SUBSCRIBE", PUBSUB_CHANNEL))
            got = b""
            while len(got) < len(confirm):
                chunk = s.recv(len(confirm) - len(got))
                if not chunk:
                    raise BenchError("the server closed a subscriber")
                got += chunk
            if got != confirm:
                raise BenchError(f"SUBSCRIBE replied {got!r}")
            s.setblocking(False)
            sel.register(s, selectors.EVENT_READ)
            left[s] = expected * len(pubsub_frame())
        ready.put("ready")
        done = time.perf_counter()
        while left:
            for key, _ in sel.select(timeout=60):
                s = key.fileobj  # type: ignore[assignment]
                data = s.recv(1 << 18)
                if not data:
                    raise BenchError("the server closed a subscriber (output buffer limit?)")
                left[s] -= len(data)
                if left[s] <= 0:
                    sel.unregister(s)
                    s.close()
                    del left[s]
                    done = time.perf_counter()
        out.put(done)
    except (OSError, BenchError) as e:
        ready.put(f"error: {e}")
        out.put(f"error: {e}")


def run_pubsub(port: int, subscribers: int, messages: int) -> Dict[str, float]:
    """One publisher pipelining ``messages`` PUBLISH commands to ``subscribers`` subscribers:
    the publisher's rate and batch latencies, and the deliveries per second (every subscriber
    has every message)."""
    import multiprocessing
    ready: "multiprocessing.Queue[str]" = multiprocessing.Queue()
    out: "multiprocessing.Queue[object]" = multiprocessing.Queue()
    groups = [min(PUBSUB_PER_PROCESS, subscribers - i)
              for i in range(0, subscribers, PUBSUB_PER_PROCESS)]
    procs = [multiprocessing.Process(target=_subscribers, args=(port, n, messages, ready, out))
             for n in groups]
    for p in procs:
        p.start()
    try:
        for _ in procs:
            r = ready.get(timeout=120)
            if r != "ready":
                raise BenchError(str(r))
        batch = encode_command(b"PUBLISH", PUBSUB_CHANNEL, PUBSUB_MESSAGE) * PUBSUB_PIPELINE
        lat: List[float] = []
        sent = 0
        with socket.create_connection(("127.0.0.1", port), timeout=120) as s:
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            want = b":%d\r\n" % subscribers
            t0 = time.perf_counter()
            while sent < messages:
                n = min(PUBSUB_PIPELINE, messages - sent)
                t1 = time.perf_counter()
                s.sendall(batch if n == PUBSUB_PIPELINE else batch[: len(batch) // PUBSUB_PIPELINE * n])
                got = b""
                while got.count(b"\r\n") < n:
                    chunk = s.recv(65536)
                    if not chunk:
                        raise BenchError("the server closed the publisher")
                    got += chunk
                if got != want * n:
                    raise BenchError(f"PUBLISH replied {got[:80]!r}, expected {want!r} each")
                lat.append(time.perf_counter() - t1)
                sent += n
            published = time.perf_counter() - t0
        ends = [out.get(timeout=600) for _ in procs]
        for e in ends:
            if isinstance(e, str):
                raise BenchError(e)
        delivered = max(ends) - t0  # type: ignore[type-var,operator]
    finally:
        for p in procs:
            p.join(timeout=5)
            if p.is_alive():
                p.kill()
    lat.sort()
    return {
        "rps": messages / published,
        "p50_latency_ms": lat[len(lat) // 2] * 1000,
        "p99_latency_ms": lat[min(len(lat) - 1, len(lat) * 99 // 100)] * 1000,
        "delivered_rps": messages * subscribers / delivered if delivered > 0 else 0.0,
    }


# The xreadgroup-xack test's queue and group.
JOBS_KEY, JOBS_GROUP = b"bench:jobs", b"workers"


def geo_point(i: int) -> Tuple[float, float]:
    """The i-th preloaded point: a deterministic scatter (a multiplicative hash per axis)
    over longitude 12..14 and latitude 37..39."""
    return (12.0 + ((i * 2654435761) % 1_000_003) / 500_001.5,
            37.0 + ((i * 40503 + 7) % 999_983) / 499_991.5)


def pipeline_all(port: int, requests: Iterable[bytes], batch: int = 1000) -> None:
    """Sends the requests pipelined in batches, reading (and checking) every reply."""
    with RespClient(port, timeout=60) as c:
        pending: List[bytes] = []

        def flush() -> None:
            c.sock.sendall(b"".join(pending))
            for _ in pending:
                reply = c.read_reply()
                if isinstance(reply, Exception):
                    raise BenchError(f"preload failed: {reply}")
            pending.clear()

        for r in requests:
            pending.append(r)
            if len(pending) == batch:
                flush()
        if pending:
            flush()


def prepare_test(port: int, test: str, requests: int) -> None:
    """Loads the data a test reads, before its CPU time is measured."""
    if test == "geosearch":
        pipeline_all(port, (
            encode_command(b"GEOADD", GEO_KEY.encode(), b"%.6f" % lon, b"%.6f" % lat,
                           b"member:%012d" % i)
            for i, (lon, lat) in ((i, geo_point(i)) for i in range(GEO_MEMBERS))))
    elif test == "xreadgroup-xack":
        pipeline_all(port, [encode_command(b"DEL", JOBS_KEY),
                            encode_command(b"XGROUP", b"CREATE", JOBS_KEY, JOBS_GROUP, b"$",
                                           b"MKSTREAM")])
        pipeline_all(port, (encode_command(b"XADD", JOBS_KEY, b"*", b"job", b"%d" % i)
                            for i in range(requests)))


def _jobs_client(port: int, count: int, seed: int, out: "object") -> None:
    """Takes ``count`` jobs from the queue, each with XREADGROUP COUNT 1 and then XACK of the
    ID it got, and puts the latencies (seconds) of whole jobs on ``out``."""
    consumer = b"worker-%d" % seed
    read = encode_command(b"XREADGROUP", b"GROUP", JOBS_GROUP, consumer, b"COUNT", b"1",
                          b"STREAMS", JOBS_KEY, b">")
    lat: List[float] = []
    with RespClient(port, timeout=60) as c:
        c.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for _ in range(count):
            t0 = time.perf_counter()
            c.sock.sendall(read)
            reply = c.read_reply()
            try:
                job_id = reply[0][1][0][0]  # type: ignore[index]
            except (TypeError, IndexError) as e:
                raise BenchError(f"XREADGROUP replied {reply!r}") from e
            c.sock.sendall(encode_command(b"XACK", JOBS_KEY, JOBS_GROUP, job_id))
            if c.read_reply() != 1:
                raise BenchError(f"XACK of {job_id!r} did not acknowledge it")
            lat.append(time.perf_counter() - t0)
    out.put(lat)


def txn_request(i: int) -> bytes:
    """One MULTI/SET/INCR/EXEC transaction on keys derived from ``i``."""
    return (encode_command(b"MULTI")
            + encode_command(b"SET", b"key:%012d" % (i % 100000), b"v")
            + encode_command(b"INCR", b"counter:%012d" % (i % 1000))
            + encode_command(b"EXEC"))


# A transaction's replies are six lines: +OK, +QUEUED, +QUEUED, *2, +OK, :n.
TXN_REPLY_LINES = 6


def _txn_client(port: int, count: int, seed: int, out: "object") -> None:
    """Runs ``count`` transactions on one connection, one per round trip, and puts the
    latencies (seconds) on ``out``."""
    reqs = [txn_request(seed * 7919 + k) for k in range(512)]
    lat: List[float] = []
    with socket.create_connection(("127.0.0.1", port)) as s:
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for k in range(count):
            t0 = time.perf_counter()
            s.sendall(reqs[k % len(reqs)])
            lines = 0
            while lines < TXN_REPLY_LINES:
                data = s.recv(65536)
                if not data:
                    raise BenchError("the server closed the connection")
                if data.startswith(b"-") or b"\r\n-" in data:
                    raise BenchError(f"transaction failed: {data[:200]!r}")
                lines += data.count(b"\n")
            lat.append(time.perf_counter() - t0)
    out.put(lat)


def run_own_client(port: int, test: str, requests: int, clients: int = 50) -> Dict[str, float]:
    """Runs one of ``OWN_CLIENT_TESTS`` with ``clients`` connections (one process each) and
    returns redis-benchmark's figures: rps, p50_latency_ms, p99_latency_ms."""
    import multiprocessing
    if test.startswith("publish-"):
        return run_pubsub(port, int(test.split("-")[1]), requests)
    target = {"multi-exec": _txn_client, "xreadgroup-xack": _jobs_client}[test]
    per = max(1, requests // clients)
    q: "multiprocessing.Queue[List[float]]" = multiprocessing.Queue()
    procs = [multiprocessing.Process(target=target, args=(port, per, i, q))
             for i in range(clients)]
    t0 = time.perf_counter()
    for p in procs:
        p.start()
    lat: List[float] = []
    for _ in procs:
        lat.extend(q.get(timeout=600))
    elapsed = time.perf_counter() - t0
    for p in procs:
        p.join()
    lat.sort()
    return {
        "rps": len(lat) / elapsed,
        "p50_latency_ms": lat[len(lat) // 2] * 1000,
        "p99_latency_ms": lat[min(len(lat) - 1, len(lat) * 99 // 100)] * 1000,
    }


def benchmark_argv(bench_bin: str, port: int, test: str, requests: int,
                   args: Sequence[str]) -> List[str]:
    """The redis-benchmark command line for one test: ``-t test`` for a
    built-in test, the command itself for one of ``CUSTOM_TESTS``."""
    argv = [bench_bin, "-h", "127.0.0.1", "-p", str(port)]
    if test not in CUSTOM_TESTS:
        argv += ["-t", test]
    argv += ["-n", str(requests)] + list(args) + ["--csv"]
    return argv + list(CUSTOM_TESTS.get(test, ()))


def benchmark_row(table: Dict[str, Dict[str, float]], test: str) -> Optional[Dict[str, float]]:
    """The CSV row of ``test`` in redis-benchmark's table: a built-in test's
    row starts with its name (``MSET (10 keys)``), a custom one is named by its
    command line."""
    name = test.upper()
    if test in CUSTOM_TESTS:
        want = " ".join(CUSTOM_TESTS[test]).upper()
        return table.get(want)
    for row, values in table.items():
        if row == name or row.startswith(name + " "):
            return values
    return None


def run_redis_benchmark(
    bench_bin: str, port: int, test: str, requests: int, args: Sequence[str], timeout: float
) -> Tuple[Dict[str, float], List[str]]:
    """Run one redis-benchmark test; returns its CSV figures and the argv."""
    argv = benchmark_argv(bench_bin, port, test, requests, args)
    proc = subprocess.Popen(
        argv,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
        preexec_fn=_die_with_parent,
    )
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        raise BenchError(f"redis-benchmark -t {test} gave no result within {timeout:.0f}s")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    text, errtext = out.decode(errors="replace"), err.decode(errors="replace")
    # redis-benchmark 7 exits non-zero on the first error reply.
    if proc.returncode != 0:
        tail = " | ".join(l for l in errtext.splitlines()[-3:] if l.strip())
        raise BenchError(f"redis-benchmark -t {test} failed ({proc.returncode}): {tail}")
    try:
        table = parse_benchmark_csv(text)
    except ValueError as e:
        raise BenchError(f"redis-benchmark -t {test}: {e}") from e
    row = benchmark_row(table, test)
    if row is None:
        raise BenchError(f"redis-benchmark -t {test} printed no {test.upper()} row")
    return row, argv


def functional_checks(test: str) -> List[Tuple[Tuple[str, ...], object]]:
    """(command, expected reply) pairs that show the server implements the
    command a redis-benchmark test times; they use their own keys."""
    s, l, z = "__bench_check__:s", "__bench_check__:l", "__bench_check__:z"
    checks: Dict[str, List[Tuple[Tuple[str, ...], object]]] = {
        "ping_inline": [(("PING",), "PONG")],
        "ping_mbulk": [(("PING",), "PONG")],
        "set": [(("SET", s, "v1"), "OK"), (("GET", s), b"v1"), (("DEL", s), 1)],
        "get": [(("SET", s, "v2"), "OK"), (("GET", s), b"v2"), (("DEL", s), 1),
                (("GET", s), None)],
        "lpush": [(("LPUSH", l, "a", "b"), 2), (("DEL", l), 1)],
        "lpop": [(("LPUSH", l, "a", "b"), 2), (("LPOP", l), b"b"), (("LPOP", l), b"a"),
                 (("LPOP", l), None)],
        "sadd": [(("SADD", z, "m"), 1), (("SADD", z, "m"), 0), (("DEL", z), 1)],
        "spop": [(("SADD", z, "m"), 1), (("SPOP", z), b"m"), (("SPOP", z), None)],
        "mset": [(("MSET", s, "v1", l, "v2"), "OK"), (("MGET", s, l), [b"v1", b"v2"]),
                 (("DEL", s, l), 2)],
        "mget": [(("MSET", s, "v3", l, "v4"), "OK"), (("MGET", s, l, z), [b"v3", b"v4", None]),
                 (("DEL", s, l), 2)],
        "eval": [(("EVAL", EVAL_SCRIPT, "1", s, "v5"), "OK"), (("GET", s), b"v5"), (("DEL", s), 1)],
        "multi-exec": [(("MULTI",), "OK"), (("SET", s, "v6"), "QUEUED"), (("INCR", l), "QUEUED"),
                       (("EXEC",), ["OK", 1]), (("DEL", s, l), 2)],
        "xadd": [(("XADD", s, "MAXLEN", "~", "1000", "1-1", "f", "v"), b"1-1"),
                 (("XLEN", s), 1), (("DEL", s), 1)],
        "xreadgroup-xack": [(("XADD", s, "1-1", "f", "v"), b"1-1"),
                            (("XGROUP", "CREATE", s, "g", "0"), "OK"),
                            (("XREADGROUP", "GROUP", "g", "c", "COUNT", "1", "STREAMS", s, ">"),
                             [[s.encode(), [[b"1-1", [b"f", b"v"]]]]]),
                            (("XACK", s, "g", "1-1"), 1), (("DEL", s), 1)],
        "publish-1": [(("PUBLISH", s, "m"), 0)],
        "publish-10": [(("PUBLISH", s, "m"), 0)],
        "publish-100": [(("PUBLISH", s, "m"), 0)],
        "geoadd": [(("GEOADD", z, "13.361389", "38.115556", "a"), 1),
                   (("GEOHASH", z, "a"), [b"sqc8b49rny0"]), (("DEL", z), 1)],
        "geosearch": [(("GEOADD", z, "13.361389", "38.115556", "a", "15.087269", "37.502669",
                        "b"), 2),
                      (("GEOSEARCH", z, "FROMMEMBER", "a", "BYRADIUS", "200", "km", "ASC",
                        "COUNT", "10"), [b"a", b"b"]), (("DEL", z), 1)],
    }
    return checks.get(test, [(("PING",), "PONG")])


def functional_check(port: int, test: str) -> None:
    """Check that the server gives correct replies to the command that a
    redis-benchmark test will time. redis-benchmark does not look at reply
    contents, so a server answering nil to every GET would otherwise look
    fast. The check's keys are removed again, even when it fails."""
    checks = functional_checks(test)
    keys = sorted({cmd[1] for cmd, _ in checks if len(cmd) > 1})
    with RespClient(port) as c:  # One connection: a failure leaves nothing open.
        try:
            for cmd, expected in checks:
                got = c.call(*cmd)
                if got != expected:
                    raise BenchError(f"{' '.join(cmd)} replied {got!r}, expected {expected!r}")
        finally:
            if keys:
                try:
                    c.call("DEL", *keys)
                except (OSError, BenchError, ValueError):
                    pass


def load_stream_entries(port: int, n_entries: int, value_size: int,
                        batch: int = 1000) -> float:
    """XADD n_entries entries to one stream over one pipelined connection, checking every
    reply is an ID; returns the elapsed seconds."""
    start = time.monotonic()
    with RespClient(port, timeout=60) as c:
        for lo in range(0, n_entries, batch):
            hi = min(n_entries, lo + batch)
            c.sock.sendall(xadd_batch(lo, hi, value_size))
            for _ in range(hi - lo):
                reply = c.read_reply()
                if not isinstance(reply, bytes):
                    raise BenchError(f"loader got {reply!r} instead of an entry ID")
    return time.monotonic() - start


def load_distinct_keys(port: int, n_keys: int, key_size: int, value_size: int,
                       batch: int = 1000) -> float:
    """SET n_keys distinct keys over one pipelined connection, checking every
    reply; returns the elapsed seconds."""
    start = time.monotonic()
    with RespClient(port, timeout=60) as c:
        for lo in range(0, n_keys, batch):
            hi = min(n_keys, lo + batch)
            c.sock.sendall(set_batch(lo, hi, key_size, value_size))
            want = hi - lo
            while count_simple_replies(c.buf) < want:
                c._fill()
            # Replies to SET are single lines, so the first `want` CRLFs end
            # exactly this batch's replies.
            cut = 0
            for _ in range(want):
                cut = c.buf.index(b"\r\n", cut) + 2
            check_ok_replies(c.buf[:cut], want)
            c.buf = c.buf[cut:]
    return time.monotonic() - start


# The eviction workload's key popularity: Zipf's law with YCSB's exponent.
ZIPF_S = 0.99


def zipf_sequence(n_keys: int, count: int, seed: int = 42) -> List[int]:
    """``count`` key indexes in 0..n_keys-1 drawn with Zipfian popularity (rank r has weight
    1/r**ZIPF_S), the ranks scattered over the indexes by a fixed shuffle so that popular keys
    are not neighbours; the same seed gives the same sequence, so both servers get the same
    reads."""
    import bisect
    import itertools
    import random
    rng = random.Random(seed)
    cdf = list(itertools.accumulate(1.0 / (r ** ZIPF_S) for r in range(1, n_keys + 1)))
    total = cdf[-1]
    order = list(range(n_keys))
    rng.shuffle(order)
    return [order[min(n_keys - 1, bisect.bisect_left(cdf, rng.random() * total))]
            for _ in range(count)]


def info_used_memory(c: "RespClient") -> int:
    """INFO's used_memory."""
    info = c.call("INFO", "memory")
    if not isinstance(info, bytes):
        raise BenchError(f"INFO memory replied {info!r}")
    for line in info.decode().splitlines():
        if line.startswith("used_memory:"):
            return int(line.split(":", 1)[1])
    raise BenchError("INFO memory has no used_memory")


def cache_reads(port: int, keys: Sequence[int], key_size: int, value_size: int,
                batch: int = 200) -> int:
    """GETs each key of ``keys`` (pipelined, ``batch`` at a time) and SETs the ones that
    missed, as a cache fills itself; returns the number of hits."""
    hits = 0
    with RespClient(port, timeout=60) as c:
        for lo in range(0, len(keys), batch):
            chunk = keys[lo:lo + batch]
            c.sock.sendall(b"".join(encode_command(b"GET", memory_key(i, key_size))
                                    for i in chunk))
            missed = []
            for i in chunk:
                reply = c.read_reply()
                if isinstance(reply, Exception):
                    raise BenchError(f"GET replied {reply}")
                if reply is None:
                    missed.append(i)
                else:
                    hits += 1
            if missed:
                c.sock.sendall(b"".join(
                    encode_command(b"SET", memory_key(i, key_size), memory_value(i, value_size))
                    for i in missed))
                for _ in missed:
                    reply = c.read_reply()
                    if reply != "OK":
                        raise BenchError(f"SET replied {reply!r}")
    return hits


def run_eviction(workload: Workload, target: str, server: "Server",
                 progress: str) -> Measurement:
    """The eviction workload on one server (see its description)."""
    n = workload.eviction_keys
    with RespClient(server.port) as c:
        empty = info_used_memory(c)
    status(f"{progress} loading {n:,} keys ...")
    load_distinct_keys(server.port, n, workload.key_size, workload.value_size)
    with RespClient(server.port) as c:
        loaded = info_used_memory(c)
        limit = empty + max(1, (loaded - empty) // 2)
        for name, value in (("maxmemory-policy", "allkeys-lru"), ("maxmemory", str(limit))):
            reply = c.call("CONFIG", "SET", name, value)
            if reply != "OK":
                raise BenchError(f"CONFIG SET {name} {value} replied {reply!r}")
    reads = zipf_sequence(n, 2 * workload.requests)
    warm, measured = reads[:workload.requests], reads[workload.requests:]
    status(f"{progress} {len(warm):,} warm-up reads ...")
    cache_reads(server.port, warm, workload.key_size, workload.value_size)
    status(f"{progress} {len(measured):,} measured reads ...")
    cpu0 = server.cpu_seconds()
    t0 = time.monotonic()
    hits = cache_reads(server.port, measured, workload.key_size, workload.value_size)
    elapsed = time.monotonic() - t0
    cpu1 = server.cpu_seconds()
    with RespClient(server.port) as c:
        used = info_used_memory(c)
        keys = c.call("DBSIZE")
    m = Measurement(
        workload.name, target, "GET",
        rps=len(measured) / elapsed if elapsed > 0 else None,
        cpu_us_per_op=cpu_us_per_op(cpu0, cpu1, len(measured), CLK_TCK),
        rss_mb=server.status_kb("VmHWM") / 1024,
        hit_rate=hits / len(measured),
    )
    log(f"{progress} hit rate {m.hit_rate:.3f}, {num(m.rps, 0)} reads/s (Python client), "
        f"{keys} keys kept, used_memory {used / 1e6:.1f} MB of maxmemory {limit / 1e6:.1f} MB "
        f"(empty {empty / 1e6:.1f} MB, loaded {loaded / 1e6:.1f} MB)")
    return m


# ---------------------------------------------------------------------------
# Machine and repository facts.
# ---------------------------------------------------------------------------


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def memory_gb() -> str:
    try:
        with open("/proc/meminfo") as f:
            kb = parse_proc_status_kb(f.read(), "MemTotal")
        return f"{kb / 1024 / 1024:.1f}"
    except (OSError, ValueError):
        return ""


def usable_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def git_hash() -> str:
    """Short commit hash, with ``+dirty`` if tracked files outside bench/
    differ from it (bench/ holds the results this script itself writes)."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=REPO_ROOT,
            capture_output=True, text=True, check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no", "--", ".", ":!bench"],
            cwd=REPO_ROOT, capture_output=True, text=True, check=True,
        ).stdout.strip()
        return head + ("+dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def redis_version(redis_server: str) -> str:
    try:
        out = subprocess.run([redis_server, "--version"], capture_output=True, text=True).stdout
    except OSError:
        return ""
    for word in out.split():
        if word.startswith("v="):
            return word[2:]
    return out.strip()


def rustis_binary() -> Path:
    target_dir = os.environ.get("CARGO_TARGET_DIR")
    base = Path(target_dir) if target_dir else REPO_ROOT / "target"
    if not base.is_absolute():
        base = REPO_ROOT / base
    return base / "release" / "rustis"


def build_rustis() -> Path:
    """Run ``cargo build --release -p rustis``: cargo itself decides whether
    the binary is missing or stale, and does nothing when it is up to date.
    ``-p rustis`` because the workspace root is a package of its own (the
    integration tests), so a bare ``cargo build`` would not build the server."""
    binary = rustis_binary()
    cargo = shutil.which("cargo")
    if cargo is None:
        if binary.exists():
            log(f"cargo not found; using the existing {binary} (it may be stale)")
            return binary
        raise SystemExit(f"error: {binary} is missing and cargo is not installed to build it")
    log("building rustis: cargo build --release -p rustis")
    result = subprocess.run([cargo, "build", "--release", "-p", "rustis"], cwd=REPO_ROOT)
    if result.returncode != 0 or not binary.exists():
        raise SystemExit(f"error: cargo build --release failed; {binary} not available")
    return binary


_STATUS_SHOWN = False


def log(msg: str) -> None:
    global _STATUS_SHOWN
    if _STATUS_SHOWN:  # Replace the transient status line.
        sys.stderr.write("\r\033[K")
        _STATUS_SHOWN = False
    print(msg, file=sys.stderr, flush=True)


def status(msg: str) -> None:
    """A transient line saying what runs now, replaced by the next log()
    line; only on a terminal, so logs stay clean."""
    global _STATUS_SHOWN
    if sys.stderr.isatty():
        sys.stderr.write("\r\033[K" + msg)
        sys.stderr.flush()
        _STATUS_SHOWN = True


# ---------------------------------------------------------------------------
# The run.
# ---------------------------------------------------------------------------


@dataclass
class RunConfig:
    tests: List[str]
    targets: List[str]
    threads: int
    repeat: int
    label: str
    csv_path: Path
    save: bool
    scale: float = 1.0
    timeout: float = 900.0
    rustis_bin: Optional[str] = None
    failures: List[str] = field(default_factory=list)


def run_workload_once(
    workload: Workload, target: str, server: Server, bench_bin: str, timeout: float,
    progress: str, results: List[Measurement], failures: List[str],
) -> None:
    """Run every command of the workload against a freshly started server,
    appending to ``results`` as each command finishes (so that a later
    failure keeps the figures already taken). A command that the server gets
    wrong is recorded in ``failures`` and skipped, so one missing command
    does not hide the figures of the others; a server that dies raises."""
    if workload.is_eviction:
        results.append(run_eviction(workload, target, server, progress))
        return
    if workload.is_memory:
        empty_kb = server.status_kb("VmRSS")
        cpu0 = server.cpu_seconds()
        stream = workload.memory_kind == "stream"
        status(f"{progress} loading {workload.memory_keys:,} {'entries' if stream else 'keys'} ...")
        if stream:
            elapsed = load_stream_entries(server.port, workload.memory_keys, workload.value_size)
        else:
            elapsed = load_distinct_keys(
                server.port, workload.memory_keys, workload.key_size, workload.value_size
            )
        cpu1 = server.cpu_seconds()
        with RespClient(server.port) as c:
            count = c.call("XLEN", STREAM_MEMORY_KEY) if stream else c.call("DBSIZE")
        if count != workload.memory_keys:
            raise BenchError(f"{'XLEN' if stream else 'DBSIZE'} is {count!r} after loading "
                             f"{workload.memory_keys}")
        loaded_kb = server.status_kb("VmRSS")
        m = Measurement(
            workload.name, target, "XADD" if stream else "SET",
            rps=workload.memory_keys / elapsed if elapsed > 0 else None,
            cpu_us_per_op=cpu_us_per_op(cpu0, cpu1, workload.memory_keys, CLK_TCK),
            rss_mb=server.status_kb("VmHWM") / 1024,
            bytes_per_key=(loaded_kb - empty_kb) * 1024 / workload.memory_keys,
        )
        results.append(m)
        log(f"{progress} {m.command} {num(m.rps, 0)} {'entries' if stream else 'keys'}/s "
            f"(Python loader), "
            f"{num(m.bytes_per_key, 1)} bytes/key, RSS {loaded_kb / 1024:.1f} MB")
        return

    for test in workload.tests:
        status(f"{progress} {test.upper()} running ...")
        try:
            functional_check(server.port, test)
            prepare_test(server.port, test, workload.requests)
            cpu0 = server.cpu_seconds()
            requests = workload.requests
            if test in OWN_CLIENT_TESTS:
                figures = run_own_client(server.port, test, requests)
            else:
                figures, _argv = run_redis_benchmark(
                    bench_bin, server.port, test, workload.requests, workload.args, timeout
                )
            cpu1 = server.cpu_seconds()
        except (BenchError, OSError, ValueError) as e:
            if not server.alive():
                raise BenchError(f"{target} exited during {test.upper()}: {e}") from e
            failures.append(f"{progress} {test.upper()}: {e}")
            log(f"{progress} {test.upper()} FAILED: {e}")
            continue
        if not server.alive():
            raise BenchError(f"{target} exited during {test.upper()}")
        m = Measurement(
            workload.name, target, test.upper(),
            rps=figures.get("rps"),
            p50_ms=figures.get("p50_latency_ms"),
            p99_ms=figures.get("p99_latency_ms"),
            cpu_us_per_op=cpu_us_per_op(cpu0, cpu1, requests, CLK_TCK),
            rss_mb=server.status_kb("VmHWM") / 1024,
        )
        results.append(m)
        log(f"{progress} {m.command:<11} {num(m.rps, 0):>12} rps  p50 {num(m.p50_ms, 3)} ms  "
            f"p99 {num(m.p99_ms, 3)} ms  {num(m.cpu_us_per_op, 2)} us/op  "
            f"RSS {num(m.rss_mb, 1)} MB")
        if "delivered_rps" in figures:
            # Pub/sub: the messages all subscribers received per second, as its own row.
            d = Measurement(workload.name, target, test.upper().replace("PUBLISH", "DELIVER"),
                            rps=figures["delivered_rps"])
            results.append(d)
            log(f"{progress} {d.command:<11} {num(d.rps, 0):>12} messages delivered/s")


def run_suite(cfg: RunConfig, redis_server: Optional[str], bench_bin: Optional[str],
              rustis_bin: Optional[Path]) -> List[Measurement]:
    workloads = [scaled(w, cfg.scale) for w in WORKLOADS if w.name in cfg.tests]
    log_dir = Path(tempfile.mkdtemp(prefix="rustis-bench-"))

    def argv_for(target: str) -> Callable[[int], List[str]]:
        if target == "redis":
            assert redis_server is not None
            return lambda port: [
                redis_server, "--port", str(port), "--bind", "127.0.0.1",
                "--save", "", "--appendonly", "no", "--dir", str(log_dir),
            ]
        assert rustis_bin is not None
        return lambda port: [
            str(rustis_bin), "--port", str(port), "--bind", "127.0.0.1",
            "--threads", str(cfg.threads),
        ]

    steps = len(workloads) * cfg.repeat * len(cfg.targets)
    step = 0
    rounds: List[Measurement] = []
    for workload in workloads:
        for rnd in range(1, cfg.repeat + 1):
            for target in cfg.targets:
                step += 1
                progress = (f"[{step}/{steps}] {workload.name} · round {rnd}/{cfg.repeat} · "
                            f"{target}:")
                server = Server(target, argv_for(target), log_dir)
                try:
                    server.start()
                    run_workload_once(
                        workload, target, server, bench_bin or "", cfg.timeout, progress,
                        rounds, cfg.failures,
                    )
                except (BenchError, OSError, ValueError) as e:
                    # OSError: the server closed, hung up or vanished from
                    # /proc; ValueError: it sent a malformed reply. Either
                    # ends this measurement, not the run.
                    msg = f"{workload.name} round {rnd} {target}: {e}"
                    cfg.failures.append(msg)
                    log(f"{progress} FAILED: {e} (server log: {server.log_path})")
                finally:
                    server.stop()
    if not cfg.failures:
        shutil.rmtree(log_dir, ignore_errors=True)
    return rounds


def write_results(cfg: RunConfig, medians: Sequence[Measurement], timestamp: str,
                  commit: str, machine: Dict[str, str]) -> None:
    cfg.csv_path.parent.mkdir(parents=True, exist_ok=True)
    new_file = not cfg.csv_path.exists() or cfg.csv_path.stat().st_size == 0
    columns = CSV_COLUMNS
    if not new_file:
        with open(cfg.csv_path, newline="") as f:
            existing = next(csv.reader(f), [])
        if existing != CSV_COLUMNS:
            log(f"note: {cfg.csv_path} has other columns; writing only those it has")
            columns = existing

    def fmt(value: Optional[float], digits: int) -> str:
        return "" if value is None else f"{value:.{digits}f}"

    with open(cfg.csv_path, "a", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=columns, extrasaction="ignore")
        if new_file:
            writer.writeheader()
        for m in medians:
            writer.writerow({
                "Timestamp": timestamp,
                "Git Hash": commit,
                "Note": f"{cfg.label}-{m.target}",
                "Target": m.target,
                "Threads": cfg.threads if m.target == "rustis" else 1,
                "Test Name": m.workload,
                "Command": m.command,
                "RPS": fmt(m.rps, 2),
                "Latency (p50)": fmt(m.p50_ms, 3),
                "Latency (p99)": fmt(m.p99_ms, 3),
                "CPU us/op": fmt(m.cpu_us_per_op, 3),
                "RSS MB": fmt(m.rss_mb, 1),
                "Bytes/key": fmt(m.bytes_per_key, 1),
                "Hit rate": fmt(m.hit_rate, 4),
            })

    sidecar = machine_csv_path(cfg.csv_path)
    new_sidecar = not sidecar.exists() or sidecar.stat().st_size == 0
    with open(sidecar, "a", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=MACHINE_COLUMNS, extrasaction="ignore")
        if new_sidecar:
            writer.writeheader()
        writer.writerow(machine)
    log(f"appended {len(medians)} rows to {cfg.csv_path} (machine facts in {sidecar})")


def machine_csv_path(csv_path: Path) -> Path:
    """``bench/benchmarks.csv`` -> ``bench/benchmarks.machine.csv``."""
    return csv_path.with_name(csv_path.stem + ".machine.csv")


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog="Workloads: " + "; ".join(f"{w.name}: {w.published}" for w in WORKLOADS),
    )
    p.add_argument("--tests", default=",".join(WORKLOAD_NAMES),
                   type=lambda s: parse_list_option(s, WORKLOAD_NAMES, "test"),
                   help="comma-separated workloads (default: all)")
    p.add_argument("--targets", default=",".join(("rustis", "redis")),
                   type=lambda s: parse_list_option(s, TARGETS, "target"),
                   help="comma-separated targets: rustis,redis (default: both)")
    p.add_argument("--threads", type=int, default=usable_cores(),
                   help="rustis --threads (default: all usable cores, %(default)s here)")
    p.add_argument("--repeat", type=int, default=3,
                   help="alternating rounds per workload; medians are kept (default: 3)")
    p.add_argument("--label", default=None,
                   help="note to save the rows under, suffixed with the target "
                        "(default: the commit hash)")
    p.add_argument("--csv", type=Path, default=DEFAULT_CSV,
                   help="CSV file to append to (default: bench/benchmarks.csv)")
    p.add_argument("--no-save", action="store_true", help="print results only")
    p.add_argument("--rustis-bin", default=None,
                   help="use this rustis binary instead of building target/release/rustis")
    p.add_argument("--timeout", type=float, default=900.0,
                   help="seconds allowed per redis-benchmark command (default: 900)")
    p.add_argument("--scale", type=float, default=1.0,
                   help="multiply request and key counts, for quick trials only; "
                        "the test names then carry @SCALE (default: 1)")
    args = p.parse_args(argv)
    if args.threads < 1 or args.repeat < 1:
        p.error("--threads and --repeat must be at least 1")
    if not 0 < args.scale <= 1:
        p.error("--scale must be in (0, 1]")
    return args


def main(argv: Optional[Sequence[str]] = None) -> int:
    # Tables use a few non-ASCII characters; never die on a non-UTF-8 locale.
    for stream in (sys.stdout, sys.stderr):
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="replace")
    argv = list(sys.argv[1:] if argv is None else argv)
    menu_choice: Optional[Tuple[List[str], Optional[str]]] = None
    if not argv and sys.stdin.isatty() and sys.stdout.isatty():
        menu_choice = choose_from_menu(input)
    args = parse_args(argv)
    commit = git_hash()
    cfg = RunConfig(
        tests=args.tests, targets=args.targets, threads=args.threads, repeat=args.repeat,
        label=args.label or commit, csv_path=args.csv, save=not args.no_save,
        scale=args.scale, timeout=args.timeout, rustis_bin=args.rustis_bin,
    )
    if menu_choice is not None:
        cfg.tests = menu_choice[0]
        cfg.save = menu_choice[1] is not None
        cfg.label = menu_choice[1] or cfg.label

    needs_bench = any(not (w.is_memory or w.is_eviction)
                      for w in WORKLOADS if w.name in cfg.tests)
    redis_server = shutil.which("redis-server")
    bench_bin = shutil.which("redis-benchmark")
    missing = []
    if "redis" in cfg.targets and redis_server is None:
        missing.append("redis-server")
    if needs_bench and bench_bin is None:
        missing.append("redis-benchmark")
    if missing:
        log(f"error: {' and '.join(missing)} not found in PATH.\n{INSTALL_HINT}")
        return 1

    nofile = raise_nofile_limit()
    if nofile < 2100 and "high-concurrency" in cfg.tests:
        log(f"warning: open-file limit is {nofile}; 2,000 clients may fail")

    rustis_bin: Optional[Path] = None
    if "rustis" in cfg.targets:
        rustis_bin = Path(cfg.rustis_bin) if cfg.rustis_bin else build_rustis()
        if not rustis_bin.exists():
            log(f"error: {rustis_bin} does not exist")
            return 1

    timestamp = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    machine = {
        "Timestamp": timestamp,
        "Git Hash": commit,
        "Label": cfg.label,
        "Cores": str(usable_cores()),
        "CPU Model": cpu_model(),
        "Memory GB": memory_gb(),
        "Kernel": platform.release(),
        "Redis Version": redis_version(redis_server) if redis_server else "",
        "Rustis Threads": str(cfg.threads) if "rustis" in cfg.targets else "",
        "Repeat": str(cfg.repeat),
        "Scale": f"{cfg.scale:g}",
    }
    log(f"machine: {machine['Cores']} cores, {machine['CPU Model']}, "
        f"{machine['Memory GB']} GB; commit {commit}; redis {machine['Redis Version']}; "
        f"rustis --threads {cfg.threads}")

    # Ctrl-C must stop the servers even when the shell started this script
    # with SIGINT ignored (background jobs); a SIGHUP that nohup ignores
    # stays ignored.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _raise_on_signal)
    if signal.getsignal(signal.SIGHUP) != signal.SIG_IGN:
        signal.signal(signal.SIGHUP, _raise_on_signal)
    atexit.register(_stop_all_servers)
    try:
        rounds = run_suite(cfg, redis_server, bench_bin, rustis_bin)
    except KeyboardInterrupt:
        _stop_all_servers()
        log("interrupted; servers stopped, nothing saved")
        return 130
    finally:
        _stop_all_servers()

    medians = median_measurements(rounds)
    if cfg.save and medians:
        write_results(cfg, medians, timestamp, commit, machine)
    if medians:
        print(f"\nMedians of {cfg.repeat} round(s):\n")
        print(format_results_table(medians))
    rows = ratio_rows(medians)
    if rows:
        print(f"\nRustis/Redis ratios, medians of {cfg.repeat} round(s) "
              f"({machine['Cores']} cores, {machine['CPU Model']}, commit {commit}).")
        print("RPS and hit rate: higher is better; latency, CPU us/op, RSS and bytes/key: "
              "lower is better.\n")
        print(format_ratio_table(rows))
    if cfg.failures:
        log("\nfailures:\n  " + "\n  ".join(cfg.failures))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
