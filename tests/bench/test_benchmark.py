"""Unit tests for benchmark.py: parsing, medians, ratios, the loader and
process handling against stand-ins. No Redis or Rustis server is needed."""

import csv
import os
import socket
import sys
import textwrap
import threading
from pathlib import Path

import pytest

import benchmark as bm

REDIS_BENCHMARK_CSV = textwrap.dedent(
    """\
    "test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms","p95_latency_ms","p99_latency_ms","max_latency_ms"
    "LPUSH","90909.09","0.317","0.072","0.287","0.583","1.111","1.383"
    "LPOP","90909.09","0.348","0.048","0.279","1.047","1.607","1.831"
    """
)


# --- redis-benchmark output -------------------------------------------------


def test_parse_benchmark_csv_reads_every_column():
    table = bm.parse_benchmark_csv(REDIS_BENCHMARK_CSV)
    assert list(table) == ["LPUSH", "LPOP"]
    assert table["LPUSH"]["rps"] == pytest.approx(90909.09)
    assert table["LPUSH"]["p50_latency_ms"] == pytest.approx(0.287)
    assert table["LPOP"]["p99_latency_ms"] == pytest.approx(1.607)
    assert table["LPOP"]["max_latency_ms"] == pytest.approx(1.831)


def test_parse_benchmark_csv_skips_warnings_and_bad_lines():
    text = (
        "WARNING: Could not fetch server CONFIG\n"
        + REDIS_BENCHMARK_CSV
        + '"GET","not-a-number","1","1","1","1","1","1"\n'
        + '"SHORT","1"\n'
        + "\n"
    )
    assert list(bm.parse_benchmark_csv(text)) == ["LPUSH", "LPOP"]


def test_parse_benchmark_csv_drops_infinite_rates():
    text = REDIS_BENCHMARK_CSV.replace('"90909.09","0.317"', '"inf","0.317"')
    table = bm.parse_benchmark_csv(text)
    assert "rps" not in table["LPUSH"]
    assert table["LPUSH"]["p50_latency_ms"] == pytest.approx(0.287)


def test_parse_benchmark_csv_upper_cases_test_names():
    text = REDIS_BENCHMARK_CSV.replace('"LPUSH"', '"lpush"')
    assert "LPUSH" in bm.parse_benchmark_csv(text)


def test_parse_benchmark_csv_without_header_is_an_error():
    with pytest.raises(ValueError):
        bm.parse_benchmark_csv('"SET","1","1","1","1","1","1","1"\n')


def test_parse_benchmark_csv_header_only_gives_no_rows():
    header = REDIS_BENCHMARK_CSV.splitlines()[0]
    assert bm.parse_benchmark_csv(header + "\n") == {}


# --- /proc ------------------------------------------------------------------


def _stat_line(comm, utime, stime):
    # Fields 3..13, then utime (14), stime (15), then a few more.
    fields = ["S", "1", "1", "1", "0", "-1", "4194304", "9", "0", "0", "0"]
    return f"1234 ({comm}) " + " ".join(fields + [str(utime), str(stime), "7", "8", "20"])


def test_parse_proc_stat_cpu_adds_user_and_system():
    assert bm.parse_proc_stat_cpu(_stat_line("rustis", 250, 50), 100) == pytest.approx(3.0)


def test_parse_proc_stat_cpu_survives_spaces_and_parens_in_name():
    text = _stat_line("my (odd) name", 7, 3)
    assert bm.parse_proc_stat_cpu(text, 100) == pytest.approx(0.1)


def test_parse_proc_stat_cpu_of_this_process():
    with open("/proc/self/stat") as f:
        assert bm.parse_proc_stat_cpu(f.read(), os.sysconf("SC_CLK_TCK")) >= 0


def test_cpu_us_per_op():
    assert bm.cpu_us_per_op(1.0, 2.5, 300_000, 100) == pytest.approx(5.0)
    # 10 ticks is enough, 9 is rounding noise.
    assert bm.cpu_us_per_op(0.0, 0.10, 1000, 100) == pytest.approx(100.0)
    assert bm.cpu_us_per_op(0.0, 0.09, 1000, 100) is None
    assert bm.cpu_us_per_op(0.0, 0.0, 1000, 100) is None
    assert bm.cpu_us_per_op(0.0, 1.0, 0, 100) is None


def test_parse_proc_status_kb():
    text = "Name:\tredis-server\nVmPeak:\t 1000 kB\nVmHWM:\t   12800 kB\nVmRSS:\t    9000 kB\n"
    assert bm.parse_proc_status_kb(text, "VmHWM") == 12800
    assert bm.parse_proc_status_kb(text, "VmRSS") == 9000
    with pytest.raises(ValueError):
        bm.parse_proc_status_kb(text, "VmSwap")


# --- medians and ratios -----------------------------------------------------


def M(workload, target, command, **kw):
    return bm.Measurement(workload, target, command, **kw)


def test_median_or_none():
    assert bm.median_or_none([3.0, 1.0, 2.0]) == 2.0
    assert bm.median_or_none([4.0, None, 1.0, 2.0]) == 2.0
    assert bm.median_or_none([1.0, 3.0]) == 2.0
    assert bm.median_or_none([None, None]) is None
    assert bm.median_or_none([]) is None


def test_median_measurements_takes_each_figure_on_its_own():
    rounds = [
        M("regular", "redis", "SET", rps=100.0, p50_ms=0.3, p99_ms=0.9, cpu_us_per_op=5.0, rss_mb=10.0),
        M("regular", "rustis", "SET", rps=150.0, p50_ms=0.2, p99_ms=0.5, cpu_us_per_op=4.0, rss_mb=11.0),
        M("regular", "redis", "SET", rps=300.0, p50_ms=0.1, p99_ms=0.7, cpu_us_per_op=6.0, rss_mb=12.0),
        M("regular", "rustis", "SET", rps=140.0, p50_ms=0.4, p99_ms=0.6, cpu_us_per_op=3.0, rss_mb=11.0),
        M("regular", "redis", "SET", rps=200.0, p50_ms=0.2, p99_ms=0.8, cpu_us_per_op=7.0, rss_mb=14.0),
        M("regular", "rustis", "SET", rps=160.0, p50_ms=0.3, p99_ms=0.4, cpu_us_per_op=5.0, rss_mb=11.0),
    ]
    medians = bm.median_measurements(rounds)
    assert [(m.target, m.command) for m in medians] == [("redis", "SET"), ("rustis", "SET")]
    redis = medians[0]
    assert (redis.rps, redis.p50_ms, redis.p99_ms, redis.cpu_us_per_op, redis.rss_mb) == (
        200.0, 0.2, 0.8, 6.0, 12.0)
    assert redis.bytes_per_key is None
    rustis = medians[1]
    assert (rustis.rps, rustis.p50_ms, rustis.p99_ms, rustis.cpu_us_per_op) == (150.0, 0.3, 0.5, 4.0)


def test_median_measurements_ignores_a_failed_round():
    rounds = [
        M("memory", "redis", "SET", bytes_per_key=100.0),
        M("memory", "redis", "SET", bytes_per_key=None),
        M("memory", "redis", "SET", bytes_per_key=110.0),
    ]
    assert bm.median_measurements(rounds)[0].bytes_per_key == 105.0


def test_ratio():
    assert bm.ratio(3.0, 2.0) == 1.5
    assert bm.ratio(1.0, 0.0) is None
    assert bm.ratio(None, 2.0) is None
    assert bm.ratio(2.0, None) is None


def test_ratio_rows_are_rustis_over_redis():
    medians = [
        M("regular", "redis", "SET", rps=100.0, cpu_us_per_op=4.0),
        M("regular", "rustis", "SET", rps=150.0, cpu_us_per_op=2.0),
        M("regular", "redis", "GET", rps=100.0),  # No rustis counterpart.
    ]
    rows = bm.ratio_rows(medians)
    assert len(rows) == 1
    workload, command, r = rows[0]
    assert (workload, command) == ("regular", "SET")
    assert r["rps"] == 1.5
    assert r["cpu_us_per_op"] == 0.5
    assert r["p50_ms"] is None


def test_format_ratio_table():
    table = bm.format_ratio_table([("memory", "SET", {k: None for k in bm.METRICS} | {"bytes_per_key": 0.8})])
    lines = table.splitlines()
    assert lines[0].startswith("| Test Name | Cmd | RPS |")
    assert lines[2] == "| memory | SET | – | – | – | – | – | 0.80 | – |"


def test_format_results_table_shows_each_target():
    table = bm.format_results_table([M("regular", "rustis", "GET", rps=123456.0, p50_ms=0.25)])
    assert "| regular | rustis | GET | 123,456 | 0.250 | – |" in table


# --- workloads and options --------------------------------------------------


def _flags(published):
    words = published.split()
    return {words[i]: words[i + 1] for i in range(0, len(words), 2)}


@pytest.mark.parametrize("w", [w for w in bm.WORKLOADS if not (w.is_memory or w.is_eviction)],
                         ids=lambda w: w.name)
def test_workloads_use_the_published_parameters(w):
    flags = _flags(w.published)
    published_tests = flags.pop("-t").split(",")
    expanded = []
    for t in published_tests:
        expanded += ["ping_inline", "ping_mbulk"] if t == "ping" else [t]
    assert list(w.tests) == expanded
    assert w.requests == int(flags.pop("-n"))
    assert _flags(" ".join(w.args)) == flags


def test_published_parameters_are_the_documented_ones():
    published = {w.name: w.published for w in bm.WORKLOADS}
    assert published["sanity"] == "-t ping -n 1000"
    assert published["regular"] == "-t set,get -n 200000"
    assert published["high-concurrency"] == (
        "-t set,get,lpush,lpop,sadd,spop -c 2000 -P 32 -n 1000000 -r 100000")
    assert published["heavy-payload"] == "-t set,get -c 1000 -P 16 -d 4096 -n 500000 -r 100000"
    memory = next(w for w in bm.WORKLOADS if w.is_memory)
    assert (memory.memory_keys, memory.key_size, memory.value_size) == (1_000_000, 16, 32)


def test_pops_come_after_their_pushes():
    # redis-benchmark always runs LPUSH before LPOP and SADD before SPOP;
    # the one-command-per-invocation runs must keep that order.
    hc = next(w for w in bm.WORKLOADS if w.name == "high-concurrency")
    assert hc.tests.index("lpush") < hc.tests.index("lpop")
    assert hc.tests.index("sadd") < hc.tests.index("spop")


def test_scaled_marks_the_name_and_scales_counts():
    regular = next(w for w in bm.WORKLOADS if w.name == "regular")
    memory = next(w for w in bm.WORKLOADS if w.is_memory)
    assert bm.scaled(regular, 1) is regular
    small = bm.scaled(regular, 0.1)
    assert (small.name, small.requests, small.args) == ("regular@0.1", 20_000, regular.args)
    assert bm.scaled(memory, 0.01).memory_keys == 10_000


def test_parse_list_option_keeps_canonical_order():
    assert bm.parse_list_option("regular, sanity", bm.WORKLOAD_NAMES, "test") == ["sanity", "regular"]
    assert bm.parse_list_option("rustis,redis", bm.TARGETS, "target") == ["redis", "rustis"]
    with pytest.raises(Exception, match="unknown test: bogus"):
        bm.parse_list_option("sanity,bogus", bm.WORKLOAD_NAMES, "test")
    with pytest.raises(Exception):
        bm.parse_list_option(" , ", bm.WORKLOAD_NAMES, "test")


def test_parse_args_defaults():
    args = bm.parse_args([])
    assert args.tests == list(bm.WORKLOAD_NAMES)
    assert args.targets == ["redis", "rustis"]  # Alternation order: redis first.
    assert args.repeat == 3
    assert args.threads == bm.usable_cores()
    assert args.csv == bm.REPO_ROOT / "bench" / "benchmarks.csv"
    assert not args.no_save
    assert args.scale == 1.0


def test_parse_args_flags():
    args = bm.parse_args(["--tests", "sanity,regular", "--targets", "redis", "--threads", "4",
                          "--repeat", "1", "--label", "smoke", "--csv", "/tmp/x.csv", "--no-save"])
    assert args.tests == ["sanity", "regular"]
    assert args.targets == ["redis"]
    assert (args.threads, args.repeat, args.label) == (4, 1, "smoke")
    assert args.csv == Path("/tmp/x.csv")
    assert args.no_save
    with pytest.raises(SystemExit):
        bm.parse_args(["--repeat", "0"])
    with pytest.raises(SystemExit):
        bm.parse_args(["--tests", "nope"])


def test_menu_all_and_label():
    answers = iter(["a", "nightly"])
    tests, label = bm.choose_from_menu(lambda _prompt: next(answers), lambda _s: None)
    assert tests == list(bm.WORKLOAD_NAMES)
    assert label == "nightly"


def test_menu_one_test_retries_and_no_label():
    answers = iter(["99", "x", "2", ""])
    printed = []
    tests, label = bm.choose_from_menu(lambda _prompt: next(answers), printed.append)
    assert tests == ["regular"]
    assert label is None
    assert sum("Please type" in p for p in printed) == 2


# --- the memory loader ------------------------------------------------------


def test_memory_keys_and_values_have_the_exact_sizes_and_are_distinct():
    n = 1_000_000
    sample = list(range(0, 2000)) + list(range(n - 2000, n))
    keys = {bm.memory_key(i) for i in sample}
    assert len(keys) == len(sample)
    assert {len(k) for k in keys} == {16}
    assert {len(bm.memory_value(i)) for i in sample} == {32}
    assert bm.memory_key(7) == b"key:000000000007"


def test_encode_command():
    assert bm.encode_command(b"SET", b"k", b"") == b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$0\r\n\r\n"


def test_set_batch_is_pipelined_set_commands():
    batch = bm.set_batch(5, 8, 16, 32)
    expected = b"".join(
        bm.encode_command(b"SET", bm.memory_key(i), bm.memory_value(i)) for i in range(5, 8))
    assert batch == expected


def test_check_ok_replies():
    bm.check_ok_replies(b"+OK\r\n" * 3, 3)
    with pytest.raises(bm.BenchError, match="OOM"):
        bm.check_ok_replies(b"+OK\r\n-OOM command not allowed\r\n+OK\r\n", 3)
    with pytest.raises(bm.BenchError, match="2 replies"):
        bm.check_ok_replies(b"+OK\r\n+OK\r\n", 3)


class FakeServer:
    """An in-process stand-in that understands just enough RESP: PING, SET,
    GET, DBSIZE. It lets the client code run without a real server."""

    def __init__(self, fail_after=None):
        self.data = {}
        self.fail_after = fail_after
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen()
        self.port = self.listener.getsockname()[1]
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._client, args=(conn,), daemon=True).start()

    def _client(self, conn):
        buf = b""
        with conn:
            while True:
                chunk = conn.recv(65536)
                if not chunk:
                    return
                buf += chunk
                out = []
                while True:
                    cmd, buf = self._parse(buf)
                    if cmd is None:
                        break
                    out.append(self._execute(cmd))
                conn.sendall(b"".join(out))

    @staticmethod
    def _parse(buf):
        if not buf.startswith(b"*") or b"\r\n" not in buf:
            return None, buf
        end = buf.index(b"\r\n")
        n, pos, args = int(buf[1:end]), end + 2, []
        for _ in range(n):
            if buf.find(b"\r\n", pos) < 0:
                return None, buf
            end = buf.index(b"\r\n", pos)
            length = int(buf[pos + 1:end])
            if len(buf) < end + 2 + length + 2:
                return None, buf
            args.append(buf[end + 2:end + 2 + length])
            pos = end + 2 + length + 2
        return args, buf[pos:]

    def _execute(self, cmd):
        name = cmd[0].upper()
        if name == b"PING":
            return b"+PONG\r\n"
        if name == b"SET":
            if self.fail_after is not None and len(self.data) >= self.fail_after:
                return b"-OOM command not allowed when used memory > 'maxmemory'.\r\n"
            self.data[cmd[1]] = cmd[2]
            return b"+OK\r\n"
        if name == b"GET":
            v = self.data.get(cmd[1])
            return b"$-1\r\n" if v is None else b"$%d\r\n%s\r\n" % (len(v), v)
        if name == b"DEL":
            return b":%d\r\n" % sum(self.data.pop(k, None) is not None for k in cmd[1:])
        if name == b"LPUSH":  # Wrong on purpose: claims one element only.
            self.data[cmd[1]] = b"list"
            return b":1\r\n"
        if name == b"DBSIZE":
            return b":%d\r\n" % len(self.data)
        return b"-ERR unknown command\r\n"

    def close(self):
        self.listener.close()


@pytest.fixture
def fake_server():
    s = FakeServer()
    yield s
    s.close()


def test_load_distinct_keys_stores_every_key(fake_server):
    elapsed = bm.load_distinct_keys(fake_server.port, 2500, 16, 32, batch=1000)
    assert elapsed >= 0
    assert len(fake_server.data) == 2500
    assert {len(k) for k in fake_server.data} == {16}
    assert {len(v) for v in fake_server.data.values()} == {32}
    with bm.RespClient(fake_server.port) as c:
        assert c.call("DBSIZE") == 2500
        assert c.call("GET", bm.memory_key(2499)) == bm.memory_value(2499)
        assert c.call("GET", "missing") is None
        assert isinstance(c.call("NOPE"), RuntimeError)


def test_load_distinct_keys_stops_on_an_error_reply():
    server = FakeServer(fail_after=1500)
    try:
        with pytest.raises(bm.BenchError, match="OOM"):
            bm.load_distinct_keys(server.port, 3000, 16, 32, batch=1000)
    finally:
        server.close()


def test_resp_client_reads_every_reply_type():
    a, b = socket.socketpair()
    client = bm.RespClient.__new__(bm.RespClient)
    client.sock, client.buf = a, b""
    b.sendall(b"+OK\r\n-ERR x\r\n:42\r\n$3\r\nabc\r\n$-1\r\n*2\r\n$1\r\na\r\n:1\r\n*-1\r\n_\r\n")
    assert client.read_reply() == "OK"
    err = client.read_reply()
    assert isinstance(err, RuntimeError) and str(err) == "ERR x"
    assert client.read_reply() == 42
    assert client.read_reply() == b"abc"
    assert client.read_reply() is None
    assert client.read_reply() == [b"a", 1]
    assert client.read_reply() is None
    assert client.read_reply() is None
    a.close()
    b.close()


# --- processes, with stand-ins ----------------------------------------------


def _script(path: Path, body: str) -> str:
    path.write_text(f"#!{sys.executable}\n" + textwrap.dedent(body))
    path.chmod(0o755)
    return str(path)


def test_run_redis_benchmark_parses_its_output(tmp_path):
    fake = _script(tmp_path / "redis-benchmark", f"""\
        import sys
        print({REDIS_BENCHMARK_CSV!r}, end="")
        print(" ".join(sys.argv[1:]), file=sys.stderr)
        """)
    figures, argv = bm.run_redis_benchmark(fake, 6379, "lpop", 1000, ["-c", "5"], timeout=30)
    assert figures["rps"] == pytest.approx(90909.09)
    assert argv[1:] == ["-h", "127.0.0.1", "-p", "6379", "-t", "lpop", "-n", "1000", "-c", "5", "--csv"]


def test_run_redis_benchmark_reports_a_server_error(tmp_path):
    fake = _script(tmp_path / "redis-benchmark", """\
        import sys
        print("Error from server: ERR unknown command 'LPOP'", file=sys.stderr)
        sys.exit(1)
        """)
    with pytest.raises(bm.BenchError, match="unknown command"):
        bm.run_redis_benchmark(fake, 6379, "lpop", 10, [], timeout=30)


def test_run_redis_benchmark_missing_row_is_an_error(tmp_path):
    fake = _script(tmp_path / "redis-benchmark", f"print({REDIS_BENCHMARK_CSV!r})\n")
    with pytest.raises(bm.BenchError, match="no SPOP row"):
        bm.run_redis_benchmark(fake, 6379, "spop", 10, [], timeout=30)


def test_run_redis_benchmark_times_out(tmp_path):
    fake = _script(tmp_path / "redis-benchmark", "import time\ntime.sleep(60)\n")
    with pytest.raises(bm.BenchError, match="no result within"):
        bm.run_redis_benchmark(fake, 6379, "get", 10, [], timeout=0.5)


FAKE_SERVER_SCRIPT = """\
    import socket, sys
    port = int(sys.argv[sys.argv.index("--port") + 1])
    if "--crash" in sys.argv:
        sys.exit(3)
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", port))
    s.listen()
    while True:
        c, _ = s.accept()
        c.recv(1024)
        c.sendall(b"+PONG\\r\\n")
        c.close()
    """


def test_server_starts_when_ping_answers_and_stops(tmp_path):
    fake = _script(tmp_path / "fake-server", FAKE_SERVER_SCRIPT)
    server = bm.Server("rustis", lambda port: [fake, "--port", str(port)], tmp_path)
    try:
        server.start(timeout=20)
        assert server.alive()
        assert server in bm._LIVE_SERVERS
        assert server.cpu_seconds() >= 0
        assert server.status_kb("VmHWM") > 0
        pid = server.pid
    finally:
        server.stop()
    assert not server.alive()
    assert server not in bm._LIVE_SERVERS
    assert not Path(f"/proc/{pid}").exists() or "Z" in Path(f"/proc/{pid}/stat").read_text().split()[2]


def test_server_that_exits_is_reported(tmp_path):
    fake = _script(tmp_path / "fake-server", FAKE_SERVER_SCRIPT)
    server = bm.Server("rustis", lambda port: [fake, "--port", str(port), "--crash"], tmp_path)
    with pytest.raises(bm.BenchError, match="exited with status 3"):
        server.start(timeout=20, attempts=2)
    assert not bm._LIVE_SERVERS


def test_free_port_is_bindable():
    port = bm.free_port()
    with socket.socket() as s:
        s.bind(("127.0.0.1", port))


def test_raise_nofile_limit_never_lowers_it():
    import resource

    before = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    after = bm.raise_nofile_limit(64)
    assert after >= min(before, 64)
    assert resource.getrlimit(resource.RLIMIT_NOFILE)[0] >= before


# --- the CSV files ----------------------------------------------------------


def test_write_results_appends_rows_and_machine_facts(tmp_path):
    path = tmp_path / "bench" / "b.csv"
    cfg = bm.RunConfig(tests=["regular", "memory"], targets=["redis", "rustis"], threads=2,
                       repeat=3, label="smoke", csv_path=path, save=True)
    medians = [
        M("regular", "redis", "SET", rps=1000.0, p50_ms=0.25, p99_ms=0.5, cpu_us_per_op=3.333333, rss_mb=10.04),
        M("memory", "rustis", "SET", rps=5e5, cpu_us_per_op=1.0, rss_mb=100.0, bytes_per_key=72.44),
    ]
    machine = {c: "x" for c in bm.MACHINE_COLUMNS}
    for _ in range(2):
        bm.write_results(cfg, medians, "2025-01-01T00:00:00Z", "abc1234", machine)
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    with open(path, newline="") as f:
        assert next(csv.reader(f)) == bm.CSV_COLUMNS
    assert len(rows) == 4
    first, second = rows[0], rows[1]
    assert first["Note"] == "smoke-redis" and first["Target"] == "redis" and first["Threads"] == "1"
    assert first["CPU us/op"] == "3.333" and first["RSS MB"] == "10.0" and first["Bytes/key"] == ""
    assert second["Note"] == "smoke-rustis" and second["Threads"] == "2"
    assert second["Latency (p50)"] == "" and second["Bytes/key"] == "72.4"
    sidecar = tmp_path / "bench" / "b.machine.csv"
    assert bm.machine_csv_path(path) == sidecar
    with open(sidecar, newline="") as f:
        assert len(list(csv.DictReader(f))) == 2


def test_first_12_columns_are_the_originals():
    assert bm.CSV_COLUMNS[:12] == [
        "Timestamp", "Git Hash", "Note", "Target", "Threads", "Test Name", "Command", "RPS",
        "Latency (p50)", "Latency (p99)", "CPU us/op", "RSS MB"]


def test_run_suite_alternates_targets_and_survives_a_failing_one(tmp_path):
    """The whole orchestration with stand-ins: a 'redis' that cannot start,
    a 'rustis' that answers PING, and a redis-benchmark that prints a table."""
    good = _script(tmp_path / "good-server", FAKE_SERVER_SCRIPT)
    crash = _script(tmp_path / "crash-server", "import sys\nsys.exit(3)\n")
    calls = tmp_path / "calls.txt"
    bench = _script(tmp_path / "redis-benchmark", f"""\
        import sys
        test = sys.argv[sys.argv.index("-t") + 1].upper()
        with open({str(calls)!r}, "a") as f:
            f.write(test + "\\n")
        print('"test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms","p95_latency_ms","p99_latency_ms","max_latency_ms"')
        print(f'"{{test}}","1000.00","0.1","0.1","0.200","0.3","0.400","0.5"')
        """)
    cfg = bm.RunConfig(tests=["sanity"], targets=["redis", "rustis"], threads=2, repeat=2,
                       label="t", csv_path=tmp_path / "x.csv", save=False)
    rounds = bm.run_suite(cfg, crash, bench, Path(good))
    assert len(cfg.failures) == 2 and all("redis" in f for f in cfg.failures)
    assert [(m.target, m.command) for m in rounds] == [("rustis", "PING_INLINE"), ("rustis", "PING_MBULK")] * 2
    assert all(m.rps == 1000.0 and m.p50_ms == 0.2 and m.p99_ms == 0.4 for m in rounds)
    assert calls.read_text().split() == ["PING_INLINE", "PING_MBULK"] * 2
    assert not bm._LIVE_SERVERS


def test_every_timed_command_has_a_functional_check():
    for w in bm.WORKLOADS:
        for test in w.tests:
            commands = {cmd[0] for cmd, _ in bm.functional_checks(test)}
            sep = "-" if test in bm.OWN_CLIENT_TESTS else "_"
            assert test.split(sep)[0].upper() in commands, test


def test_functional_check_passes_and_fails_without_leaving_keys(fake_server):
    bm.functional_check(fake_server.port, "get")
    bm.functional_check(fake_server.port, "ping_mbulk")
    with pytest.raises(bm.BenchError, match="LPUSH __bench_check__:l a b replied 1, expected 2"):
        bm.functional_check(fake_server.port, "lpush")
    with pytest.raises(bm.BenchError, match="unknown command"):
        bm.functional_check(fake_server.port, "spop")
    assert fake_server.data == {}


def test_builtin_test_runs_with_dash_t():
    argv = bm.benchmark_argv("rb", 7000, "mset", 10, ("-c", "5"))
    assert argv == ["rb", "-h", "127.0.0.1", "-p", "7000", "-t", "mset", "-n", "10",
                    "-c", "5", "--csv"]


def test_custom_test_runs_its_command_line():
    argv = bm.benchmark_argv("rb", 7000, "mget", 10, ("-r", "100"))
    assert "-t" not in argv
    assert argv[argv.index("--csv") + 1:] == ["MGET"] + ["key:__rand_int__"] * 10


def test_benchmark_row_finds_builtin_rows_with_a_suffix_and_custom_rows_by_command():
    text = ('"test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms",'
            '"p95_latency_ms","p99_latency_ms","max_latency_ms"\n'
            '"MSET (10 keys)","100.0","1","1","1","1","1","1"\n'
            '"MGET ' + " ".join(["key:__rand_int__"] * 10) + '","200.0","1","1","1","1","1","1"\n')
    table = bm.parse_benchmark_csv(text)
    assert bm.benchmark_row(table, "mset")["rps"] == 100.0
    assert bm.benchmark_row(table, "mget")["rps"] == 200.0
    assert bm.benchmark_row(table, "set") is None


def test_xadd_batch_is_pipelined_xadds_to_one_stream():
    batch = bm.xadd_batch(3, 5, 32)
    assert batch == (bm.encode_command(b"XADD", bm.STREAM_MEMORY_KEY, b"*", b"field",
                                       bm.memory_value(3, 32))
                     + bm.encode_command(b"XADD", bm.STREAM_MEMORY_KEY, b"*", b"field",
                                         bm.memory_value(4, 32)))


def test_geo_points_fill_their_square_and_differ():
    points = [bm.geo_point(i) for i in range(bm.GEO_MEMBERS)]
    assert all(12 <= lon < 14 and 37 <= lat < 39 for lon, lat in points)
    assert len(set(points)) == len(points)
    # Spread, not clustered: each quarter of the square holds about a quarter of them.
    quarter = sum(1 for lon, lat in points if lon < 13 and lat < 38)
    assert 0.2 < quarter / len(points) < 0.3


def test_stream_memory_workload_counts_entries():
    w = next(w for w in bm.WORKLOADS if w.name == "stream-memory")
    assert (w.memory_kind, w.memory_keys, w.value_size) == ("stream", 1_000_000, 32)


def test_zipf_sequence_is_skewed_reproducible_and_in_range():
    seq = bm.zipf_sequence(1000, 20000, seed=7)
    assert seq == bm.zipf_sequence(1000, 20000, seed=7)
    assert all(0 <= i < 1000 for i in seq)
    counts = sorted((seq.count(i) for i in set(seq)), reverse=True)
    # The most popular key is read far more often than a uniform draw would (20 times).
    assert counts[0] > 1000
    assert len(set(seq)) > 300


def test_cache_reads_counts_hits_and_fills_misses(fake_server):
    bm.pipeline_all(fake_server.port, [bm.encode_command(b"SET", bm.memory_key(1, 16), b"v")])
    hits = bm.cache_reads(fake_server.port, [1, 2, 2, 3, 1], 16, 100)
    # One pipelined batch: key 1 hits twice; keys 2 (twice) and 3 miss and are then set.
    assert hits == 2
    assert bm.memory_key(3, 16) in fake_server.data


def test_eviction_workload_scales_its_keys_and_reports_a_hit_rate():
    w = next(w for w in bm.WORKLOADS if w.name == "eviction")
    assert w.is_eviction and not w.is_memory
    assert bm.scaled(w, 0.01).eviction_keys == 2000
    table = bm.format_results_table([M("eviction", "rustis", "GET", hit_rate=0.8123)])
    assert "| 0.812 |" in table
    assert bm.CSV_COLUMNS[-1] == "Hit rate"
