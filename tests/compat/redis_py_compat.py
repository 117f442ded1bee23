#!/usr/bin/env python3
"""Run redis-py's own test suite against one server and compare with a ratchet.

This is the driver behind tests/compat/redis-py.sh; see tests/compat/README.md
for how to use it. It owns: fetching the pinned redis-py sdist and the
virtualenv (both cached under target/compat/), starting the server under test
on a free loopback port, running pytest on the single-server test files,
folding the per-test outcomes, and comparing them with the committed lists.

It uses the standard library only, so that it can run before the virtualenv
exists. It never talks to a server it did not start, unless given --url.
"""

import argparse
import hashlib
import json
import os
import shutil
import socket
import subprocess
import sys
import tarfile
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
CACHE = REPO / "target" / "compat"

REDIS_PY_VERSION = "5.0.8"
REDIS_PY_SHA256 = "0c5b10d387568dfe0698c6fad6615750c24170e548ca2deac10c649d463e9870"

# redis-py's test files that run against one plain server. Left out: cluster,
# sentinel and TLS tests, the module tests (bloom, json, search, timeseries,
# graph), test_connect.py and test_helpers.py (they test the client against
# its own stand-in servers or none), and the asyncio copies of these files.
TEST_FILES = [
    "tests/test_commands.py",
    "tests/test_pipeline.py",
    "tests/test_pubsub.py",
    "tests/test_connection.py",
    "tests/test_connection_pool.py",
    "tests/test_encoding.py",
    "tests/test_scripting.py",
    "tests/test_function.py",
    "tests/test_lock.py",
    "tests/test_monitor.py",
    "tests/test_multiprocessing.py",
    "tests/test_retry.py",
    "tests/test_credentials.py",
    "tests/test_command_parser.py",
    "tests/test_hash.py",
]

# Tests marked with any of these need more than one plain server.
MARKERS = "not onlycluster and not redismod and not ssl and not replica"

# These connect to a fixed port (6379, 6390 or 9999) instead of --redis-url:
# the run must not talk to a server it did not start.
DESELECT = [
    "tests/test_connection.py::TestConnection::test_retry_connect_on_timeout_error",
    "tests/test_connection.py::test_create_single_connection_client_from_url",
    "tests/test_connection.py::test_network_connection_failure",
    "tests/test_pubsub.py::TestPubSubRedisDown::test_channel_subscribe",
]

# At most this many newly passing tests are printed one per line.
SHOW_NEW = 50

# Each protocol has its own lists: the same test can pass over RESP2 and fail
# over RESP3 (HELLO 3, map and set replies, push messages).
PROTOCOLS = ("2", "3")

# pytest is started again at most this many times after it dies mid-run.
MAX_RESTARTS = 5


def main():
    # Keep our lines and the log lines on stderr in order when piped (CI).
    sys.stdout.reconfigure(line_buffering=True)
    args = parse_args()
    started = time.monotonic()
    protocols = PROTOCOLS if args.protocol == "both" else (args.protocol,)
    files = args.files or TEST_FILES

    python = ensure_venv()
    src = ensure_sdist(python)

    server = None
    if args.server == "external":
        url = args.url
    else:
        server = Server.start(args)
        url = f"redis://127.0.0.1:{server.port}/0"
    host_port = url.split("://", 1)[1].split("/", 1)[0].rpartition("@")[2]
    host, _, port = host_port.rpartition(":")
    args.version = server_info(int(port), host).get("redis_version", "unknown")
    log(f"{args.server} reports redis_version {args.version}")

    deadline = time.monotonic() + args.budget
    regressions = 0
    crashes = []
    totals = Counter()
    try:
        for protocol in protocols:
            if server and not server.alive():
                # The server died in the previous run: that is reported as a
                # failure, and the next protocol gets a fresh server.
                server.stop()
                server = Server.start(args, restart=True)
                url = f"redis://127.0.0.1:{server.port}/0"
            outcomes = run_pytest(python, src, url, protocol, files, args, deadline)
            totals.update(summarize(outcomes, files, protocol))
            regressions += compare(outcomes, files, protocol, args)
            if server and not server.alive():
                crashes.append(f"RESP{protocol}: exit {server.proc.returncode}")
                log(f"{args.server} exited with {server.proc.returncode} during the run:")
                sys.stderr.write(tail(server.log_path))
    finally:
        if server:
            server.stop()

    elapsed = time.monotonic() - started
    print(f"\nredis-py compat against {args.server} took {elapsed:.0f}s")
    if regressions:
        print(f"FAIL: {regressions} listed tests did not pass (REGRESSIONS above)")
    if crashes:
        print(f"FAIL: {args.server} died during the run ({'; '.join(crashes)});"
              f" its log: {server.log_path.relative_to(REPO)}")
    # The last line has the plain form CI reads: "N passed, M failed, K skipped".
    print(
        f"total: {totals['passed']} passed, {totals['failed']} failed, "
        f"{totals['skipped']} skipped"
    )
    return 1 if regressions or crashes else 0


def parse_args():
    p = argparse.ArgumentParser(
        description="Run redis-py's test suite against rustis or redis-server."
    )
    p.add_argument(
        "--server",
        choices=("rustis", "redis", "external"),
        default=os.environ.get("COMPAT_SERVER", "rustis"),
        help="server to start: rustis (default; built with cargo unless --bin),"
        " redis (redis-server from PATH) or external (--url)",
    )
    p.add_argument(
        "--bin",
        default=os.environ.get("RUSTIS_BIN"),
        help="use this rustis binary instead of running cargo build --release -p rustis"
        " (env RUSTIS_BIN)",
    )
    p.add_argument("--url", help="with --server external: redis://HOST:PORT/0")
    p.add_argument(
        "--threads", type=int, default=2, help="rustis --threads (default 2)"
    )
    p.add_argument(
        "--protocol",
        choices=("2", "3", "both"),
        default="both",
        help="RESP version the client speaks (default both, one run each)",
    )
    p.add_argument(
        "--files",
        nargs="+",
        metavar="FILE",
        help="run only these redis-py test files (e.g. tests/test_lock.py);"
        " only their entries of the lists are compared",
    )
    p.add_argument(
        "--timeout", type=int, default=10, help="seconds per test (default 10)"
    )
    p.add_argument(
        "--budget",
        type=int,
        default=600,
        help="seconds for all pytest runs together; what has not run by then"
        " counts as not run (default 600)",
    )
    p.add_argument(
        "--update",
        action="store_true",
        help="add newly passing tests to the passing list(s); never removes any",
    )
    p.add_argument(
        "--write-reference",
        action="store_true",
        help="rewrite the reference list(s) with what passed (use with --server redis)",
    )
    p.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="show pytest's output instead of only writing it to the log",
    )
    args = p.parse_args()
    if args.server == "external" and not args.url:
        p.error("--server external needs --url")
    return args


# ---------------------------------------------------------------- setup


def ensure_venv():
    """Create target/compat/venv from requirements.txt, or reuse it."""
    venv = CACHE / "venv"
    python = venv / "bin" / "python"
    requirements = HERE / "requirements.txt"
    stamp = venv / "compat-requirements.sha256"
    want = hashlib.sha256(requirements.read_bytes()).hexdigest()
    if python.exists() and stamp.exists() and stamp.read_text().strip() == want:
        return python
    log(f"creating virtualenv {venv.relative_to(REPO)}")
    if venv.exists():
        shutil.rmtree(venv)
    run([sys.executable, "-m", "venv", str(venv)])
    run(
        [
            str(python), "-m", "pip", "install", "--quiet",
            "--disable-pip-version-check", "--require-hashes",
            "-r", str(requirements),
        ]
    )
    stamp.write_text(want + "\n")
    return python


def ensure_sdist(python):
    """Download and unpack the pinned redis-py sdist; return the source dir."""
    src = CACHE / f"redis-{REDIS_PY_VERSION}"
    if (src / "tests" / "conftest.py").exists():
        return src
    dl = CACHE / "download"
    tarball = dl / f"redis-{REDIS_PY_VERSION}.tar.gz"
    if not tarball.exists():
        log(f"downloading redis-py {REDIS_PY_VERSION} sdist")
        run(
            [
                str(python), "-m", "pip", "download", "--quiet",
                "--disable-pip-version-check", "--no-deps",
                "--no-binary", ":all:", "-d", str(dl),
                f"redis=={REDIS_PY_VERSION}",
            ]
        )
    digest = hashlib.sha256(tarball.read_bytes()).hexdigest()
    if digest != REDIS_PY_SHA256:
        tarball.unlink()
        sys.exit(f"error: {tarball.name} has sha256 {digest}, want {REDIS_PY_SHA256}")
    with tempfile.TemporaryDirectory(dir=CACHE) as tmp:
        with tarfile.open(tarball) as tar:
            tar.extractall(tmp, filter="data")
        os.replace(Path(tmp) / f"redis-{REDIS_PY_VERSION}", src)
    return src


class Server:
    """A server process this run started, on a free loopback port."""

    def __init__(self, name, proc, port, log_path, workdir):
        self.name = name
        self.proc = proc
        self.port = port
        self.log_path = log_path
        self.workdir = workdir

    @classmethod
    def start(cls, args, restart=False):
        CACHE.mkdir(parents=True, exist_ok=True)
        workdir = tempfile.mkdtemp(prefix=f"{args.server}-", dir=CACHE)
        if args.server == "rustis":
            if not args.bin:
                args.bin = str(build_rustis())  # once, even if restarted
            binary = Path(args.bin)
            # DEBUG allowed from loopback, as the reference server has it.
            argv = lambda port: [  # noqa: E731
                str(binary), "--port", str(port), "--bind", "127.0.0.1",
                "--threads", str(args.threads),
                "--enable-debug-command", "local",
            ]
        else:
            binary = shutil.which("redis-server")
            if not binary:
                sys.exit("error: redis-server is not on PATH")
            # No persistence, and the DEBUG command allowed from loopback as
            # a test server usually has it. Files (if any) go to a temp dir.
            argv = lambda port: [  # noqa: E731
                binary, "--port", str(port), "--bind", "127.0.0.1",
                "--save", "", "--appendonly", "no", "--daemonize", "no",
                "--enable-debug-command", "local", "--dir", workdir,
            ]
        log_path = CACHE / f"server-{args.server}.log"
        for attempt in range(3):
            port = free_port()
            # A retry or restart appends, keeping the log of the one before.
            with open(log_path, "ab" if restart or attempt else "wb") as out:
                proc = subprocess.Popen(
                    argv(port), stdout=out, stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL, cwd=workdir,
                )
            server = cls(args.server, proc, port, log_path, workdir)
            if server.wait_ready():
                log(f"{args.server} (pid {proc.pid}) is up on 127.0.0.1:{port}")
                return server
            server.stop(keep_workdir=True)
        shutil.rmtree(workdir, ignore_errors=True)
        sys.exit(f"error: {args.server} did not start; see {log_path}")

    def wait_ready(self, limit=30.0):
        """Poll PING until PONG; False if the process exits or time runs out."""
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                log(f"{self.name} exited with {self.proc.returncode}:")
                sys.stderr.write(tail(self.log_path))
                return False
            if ping(self.port):
                # Another process could have taken the port between
                # free_port() and the server's bind: where INFO names the
                # process, make sure it is ours.
                pid = server_info(self.port).get("process_id")
                if pid is not None and pid != str(self.proc.pid):
                    log(f"port {self.port} is served by pid {pid}, not ours")
                    return False
                return True
            time.sleep(0.05)
        log(f"{self.name} did not answer PING within {limit:.0f}s")
        return False

    def alive(self):
        return self.proc.poll() is None

    def stop(self, keep_workdir=False):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if not keep_workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)


def build_rustis():
    if not (REPO / "Cargo.toml").exists():
        sys.exit(
            "error: no Cargo.toml at the repo root, so no rustis to build;"
            " use --server redis, or --bin PATH"
        )
    # The root package only holds integration tests, so a plain
    # `cargo build --release` would not build the server: name its package.
    log("cargo build --release -p rustis")
    run(["cargo", "build", "--release", "-p", "rustis", "--quiet"], cwd=REPO)
    binary = REPO / "target" / "release" / "rustis"
    if not binary.exists():
        sys.exit(f"error: cargo build did not produce {binary}")
    return binary


def free_port():
    """A loopback port nothing listens on now (the kernel picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def server_info(port, host="127.0.0.1"):
    """The fields of INFO server as a dict; empty if the server has no INFO."""
    data = b""
    try:
        with socket.create_connection((host, port), timeout=5) as s:
            s.sendall(b"*2\r\n$4\r\nINFO\r\n$6\r\nserver\r\n")
            # One bulk (RESP2) or verbatim (RESP3) string, or an error line.
            while len(data) < 1 << 20:
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
                header, _, body = data.partition(b"\r\n")
                if header[:1] not in (b"$", b"="):
                    break
                if len(body) >= int(header[1:]) + 2:
                    break
    except (OSError, ValueError):
        return {}
    info = {}
    for line in data.decode(errors="replace").splitlines()[1:]:
        key, sep, value = line.partition(":")
        if sep:
            info[key.strip()] = value.strip()
    return info


def ping(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
            s.sendall(b"*1\r\n$4\r\nPING\r\n")
            return s.recv(64).startswith(b"+PONG")
    except OSError:
        return False


# ---------------------------------------------------------------- running


def run_pytest(python, src, url, protocol, files, args, deadline):
    """Run pytest until every selected test has an outcome; return {id: outcome}.

    If pytest dies mid-run (a thread-method timeout calls os._exit), the test
    it was running counts as failed and pytest starts again without the tests
    that already have an outcome.
    """
    rundir = CACHE / f"run-{args.server}-resp{protocol}"
    shutil.rmtree(rundir, ignore_errors=True)
    rundir.mkdir(parents=True)
    results = rundir / "results.jsonl"
    done_file = rundir / "done.txt"
    pytest_log = rundir / "pytest.log"

    env = dict(os.environ)
    env.update(
        PYTHONPATH=str(HERE),
        PYTHONDONTWRITEBYTECODE="1",
        COMPAT_RESULTS=str(results),
        COMPAT_SKIP=str(done_file),
    )
    cmd = [
        str(python), "-m", "pytest",
        "-c", str(HERE / "pytest.ini"), "--rootdir", str(src),
        "-p", "redis_py_plugin", "-p", "no:cacheprovider",
        "-q", "--tb=short", "-rs", f"--timeout={args.timeout}",
        f"--redis-url={url}", f"--protocol={protocol}",
        "-m", MARKERS,
        *(f"--deselect={t}" for t in DESELECT),
        *files,
    ]
    log(f"pytest over RESP{protocol}: {len(files)} files (log: {pytest_log.relative_to(REPO)})")

    outcomes = {}
    for attempt in range(MAX_RESTARTS + 1):
        before = len(outcomes)
        left = deadline - time.monotonic()
        if left <= 0:
            log("out of --budget: the remaining tests do not run")
            break
        with open(pytest_log, "ab") as out:
            if attempt:
                out.write(f"\n===== restart {attempt} =====\n".encode())
                out.flush()
            try:
                rc = subprocess.run(
                    cmd, cwd=src, env=env, stdin=subprocess.DEVNULL,
                    stdout=None if args.verbose else out,
                    stderr=subprocess.STDOUT if not args.verbose else None,
                    timeout=left,
                ).returncode
            except subprocess.TimeoutExpired:
                rc = None
        finished, running = read_results(results, outcomes)
        if finished:
            break
        if rc is None:
            log(f"pytest killed: out of --budget ({args.budget}s) during {running}")
            if running:
                outcomes[running] = "failed"
            break
        if running:
            log(f"pytest died (exit {rc}) during {running}; counted as failed")
            outcomes[running] = "failed"
        if len(outcomes) == before:
            log(f"pytest ran no test (exit {rc}); last lines of its log:")
            sys.stderr.write(tail(pytest_log))
            break
        done_file.write_text("".join(f"{t}\n" for t in sorted(outcomes)))
    else:
        log(f"giving up after {MAX_RESTARTS} restarts")
    return outcomes


def read_results(path, outcomes):
    """Fold the plugin's event log into outcomes.

    Returns (finished, running): whether the last session ended normally, and
    the test that had started but has no outcome (the one pytest died in).
    """
    finished, running = False, None
    if not path.exists():
        return finished, running
    with open(path, encoding="utf-8") as f:
        for line in f:
            try:
                event = json.loads(line)
            except ValueError:
                continue  # a line cut short by a crash
            kind = event.get("event")
            if kind == "collected":
                finished = False
            elif kind == "start":
                running = event["id"]
            elif kind == "result":
                outcomes[event["id"]] = event["outcome"]
                running = None
            elif kind == "finished":
                finished = True
    return finished, running


# ---------------------------------------------------------------- reporting


def file_of(test_id):
    return test_id.split("::", 1)[0]


def summarize(outcomes, files, protocol):
    print(f"\nredis-py {REDIS_PY_VERSION} over RESP{protocol}:")
    per_file = defaultdict(Counter)
    for test_id, outcome in outcomes.items():
        per_file[file_of(test_id)][outcome] += 1
    total = Counter()
    width = max(len(f) for f in files) + 1
    for name in files:
        c = per_file[name]
        total.update(c)
        print(
            f"  {name + ':':<{width}} {c['passed']} passed, {c['failed']} failed,"
            f" {c['skipped']} skipped"
        )
    print(
        f"  {'RESP' + protocol + ':':<{width}} {total['passed']} passed,"
        f" {total['failed']} failed, {total['skipped']} skipped"
    )
    return total


def list_path(kind, protocol):
    suffix = "" if protocol == "2" else f"-resp{protocol}"
    return HERE / f"redis-py-{kind}{suffix}.txt"


def read_list(path):
    """Return (header comment lines, set of test ids) of a list file."""
    header, ids = [], set()
    if path.exists():
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.startswith("#"):
                header.append(line)
            elif line.strip():
                ids.add(line.strip())
    return header, ids


def write_list(path, header, ids):
    body = "".join(f"{t}\n" for t in sorted(ids))
    path.write_text("\n".join(header) + ("\n" if header else "") + body, encoding="utf-8")


def in_scope(test_id, files):
    return file_of(test_id) in files


def compare(outcomes, files, protocol, args):
    """Check the run against its list; print what changed. Return the regressions.

    Against redis-server the list is the reference (what passed there before);
    against rustis it is the passing list, the ratchet.
    """
    passed = {t for t, o in outcomes.items() if o == "passed"}
    ref_path = list_path("reference", protocol)
    pass_path = list_path("passing", protocol)
    ref_header, reference = read_list(ref_path)
    pass_header, listed = read_list(pass_path)
    scoped_ref = {t for t in reference if in_scope(t, files)}
    scoped_listed = {t for t in listed if in_scope(t, files)}
    print(
        f"  reference: {len(scoped_ref)}; passing list: {len(scoped_listed)};"
        f" passing now: {len(passed)} ({len(passed & scoped_ref)} in the reference)"
    )

    if args.write_reference:
        # The reference is rewritten whole for the files run: it may shrink.
        kept = {t for t in reference if not in_scope(t, files)}
        header = [
            f"# redis-py {REDIS_PY_VERSION} tests that pass against redis-server"
            f" {args.version} over RESP{protocol}:",
            "# the ceiling for rustis. Written by:",
            "#   tests/compat/redis-py.sh --server redis --write-reference",
        ]
        write_list(ref_path, header, kept | passed)
        print(f"  wrote {len(kept | passed)} tests to {ref_path.relative_to(REPO)}")
        return 0

    if args.server == "redis":
        baseline, baseline_path = scoped_ref, ref_path
    else:
        baseline, baseline_path = scoped_listed, pass_path
    regressions = sorted(baseline - passed)
    new = sorted(passed - baseline)
    if regressions:
        print(f"  REGRESSIONS: {len(regressions)} tests in {baseline_path.name} did not pass:")
        for t in regressions:
            print(f"    {t} ({outcomes.get(t, 'not run')})")
    if new:
        print(f"  newly passing: {len(new)} tests not in {baseline_path.name}:")
        for t in new[:SHOW_NEW]:
            print(f"    {t}")
        if len(new) > SHOW_NEW:
            print(f"    ... and {len(new) - SHOW_NEW} more")
        if args.server != "redis" and not args.update:
            print("  (add them with: tests/compat/redis-py.sh --update)")

    if args.update and args.server != "redis":
        # Tests are only ever added here; removing one is a manual edit whose
        # reason goes in the commit message.
        header = pass_header or [
            f"# redis-py {REDIS_PY_VERSION} tests that pass against rustis over RESP{protocol}.",
            "# CI fails if one of them stops passing. Add with tests/compat/redis-py.sh",
            "# --update; remove only by hand, with the reason in the commit message.",
        ]
        write_list(pass_path, header, listed | passed)
        print(f"  wrote {len(listed | passed)} tests to {pass_path.relative_to(REPO)}")
    return len(regressions)


# ---------------------------------------------------------------- helpers


def log(msg):
    print(f"compat: {msg}", file=sys.stderr, flush=True)


def run(cmd, **kw):
    subprocess.run(cmd, check=True, stdin=subprocess.DEVNULL, **kw)


def tail(path, n=30):
    try:
        lines = Path(path).read_text(errors="replace").splitlines()
    except OSError:
        return ""
    return "".join(f"    {line}\n" for line in lines[-n:])


if __name__ == "__main__":
    sys.exit(main())
