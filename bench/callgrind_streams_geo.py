#!/usr/bin/env python3
"""Instructions per request under callgrind for the stream and geo commands of the
`streams` and `geo` workloads (docs/performance.md, "Streams and geo").

usage: python3 bench/callgrind_streams_geo.py rustis|redis BIN OUTDIR [PHASES]
PHASES: comma-separated, in this order: xadd,xreadgroup,xack,geoadd,geosearch (xack acknowledges
what xreadgroup read). CG_N sets the requests per phase (default 4000).
Starts the server under valgrind --tool=callgrind --instr-atstart=no, loads data with
instrumentation off, then for each phase switches instrumentation on, runs N requests
(one connection, one at a time), switches it off and dumps. Prints Ir/request per phase.
"""
import os
import random
import re
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from benchmark import RespClient, encode_command, geo_point  # noqa: E402

N = int(os.environ.get("CG_N", "4000"))


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def pipeline(c, reqs, batch=1000):
    for i in range(0, len(reqs), batch):
        chunk = reqs[i:i + batch]
        c.sock.sendall(b"".join(chunk))
        for _ in chunk:
            r = c.read_reply()
            if isinstance(r, Exception):
                raise r


def ctl(pid, *a):
    # vgdb directly: callgrind_control does not recognise a process that renamed itself.
    cmd = {"-i": ["instrumentation", a[-1]], "-d": ["dump", a[-1]]}[a[0]]
    subprocess.run(["vgdb", f"--pid={pid}", *cmd], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def main():
    kind, binpath, outdir = sys.argv[1], sys.argv[2], sys.argv[3]
    phases = sys.argv[4].split(",") if len(sys.argv) > 4 else [
        "xadd", "xreadgroup", "xack", "geoadd", "geosearch"]
    os.makedirs(outdir, exist_ok=True)
    port = free_port()
    if kind == "redis":
        cmd = [binpath, "--port", str(port), "--save", "", "--appendonly", "no"]
    else:
        cmd = [binpath, "--port", str(port), "--threads", "1"]
    vg = ["valgrind", "--tool=callgrind", "--instr-atstart=no",
          f"--callgrind-out-file={outdir}/cg.%p"]
    import tempfile
    wd = tempfile.mkdtemp(prefix="cgrun")
    if kind == "rustis":
        cmd += ["--save", "", "--appendonly", "no", "--dir", wd]
    p = subprocess.Popen(vg + cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=wd)
    try:
        for _ in range(600):
            try:
                c = RespClient(port, timeout=600)
                if c.call("PING") == "PONG":
                    break
            except OSError:
                time.sleep(0.2)
        rnd = random.Random(1)
        results = {}
        for ph in phases:
            if ph == "xadd":
                # Warm up to the steady state (each stream past MAXLEN ~ 1000, trimming).
                pipeline(c, [encode_command(b"XADD", b"stream:%d" % (i % 100), b"MAXLEN", b"~",
                                            b"1000", b"*", b"field", b"value")
                             for i in range(120000)])
                reqs = [encode_command(b"XADD", b"stream:%d" % rnd.randrange(100), b"MAXLEN",
                                       b"~", b"1000", b"*", b"field", b"value") for _ in range(N)]
            elif ph == "xreadgroup":
                pipeline(c, [encode_command(b"XGROUP", b"CREATE", b"bench:jobs", b"workers",
                                            b"$", b"MKSTREAM")])
                pipeline(c, [encode_command(b"XADD", b"bench:jobs", b"*", b"job", b"%d" % i)
                             for i in range(N + 20000)])
                # Some history, as the benchmark has: jobs read and acked before.
                ids = []
                for _ in range(2000):
                    r = c.call("XREADGROUP", "GROUP", "workers", "worker-0", "COUNT", "1",
                               "STREAMS", "bench:jobs", ">")
                    ids.append(r[0][1][0][0])
                for i in ids:
                    c.call("XACK", "bench:jobs", "workers", i)
                reqs = [encode_command(b"XREADGROUP", b"GROUP", b"workers",
                                       b"worker-%d" % (k % 50), b"COUNT", b"1", b"STREAMS",
                                       b"bench:jobs", b">") for k in range(N)]
            elif ph == "xack":
                reqs = [encode_command(b"XACK", b"bench:jobs", b"workers", i) for i in got_ids]
            elif ph == "geoadd":
                reqs = [encode_command(b"GEOADD", b"geo:add", b"13.361389", b"38.115556",
                                       b"member:%012d" % rnd.randrange(100000))
                        for _ in range(N)]
            elif ph == "geosearch":
                pipeline(c, [encode_command(b"GEOADD", b"geo:points", b"%.6f" % lon,
                                            b"%.6f" % lat, b"member:%012d" % i)
                             for i, (lon, lat) in ((i, geo_point(i)) for i in range(100000))])
                reqs = [encode_command(b"GEOSEARCH", b"geo:points", b"FROMMEMBER",
                                       b"member:%012d" % rnd.randrange(100000), b"BYRADIUS",
                                       b"2", b"km", b"ASC", b"COUNT", b"10")
                        for _ in range(N)]
            ctl(p.pid, "-i", "on")
            replies = []
            for r in reqs:
                c.sock.sendall(r)
                replies.append(c.read_reply())
            ctl(p.pid, "-i", "off")
            ctl(p.pid, "-d", ph)
            for r in replies:
                if isinstance(r, Exception):
                    raise r
            if ph == "xreadgroup":
                got_ids = [r[0][1][0][0] for r in replies]
            results[ph] = len(reqs)
        c.close()
    finally:
        p.terminate()
        p.wait()
    # Each dump file's header names its trigger; sum Ir per phase.
    for f in sorted(os.listdir(outdir)):
        path = os.path.join(outdir, f)
        text = open(path, errors="replace").read()
        m = re.search(r"^desc: Trigger: (?:Client Request: )?(?:dump )?(\S+)", text, re.M)
        s = re.search(r"^totals: (\d+)", text, re.M)
        if m and s and m.group(1) in results:
            ph = m.group(1)
            print(f"{kind} {ph}: {int(s.group(1)) / results[ph]:.0f} Ir/request  ({path})")


if __name__ == "__main__":
    main()
