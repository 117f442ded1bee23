#!/usr/bin/env python3
"""Regenerates src/tests/eval_cases.rs from a running redis-server 7.0.15.

Usage: gen_eval_cases.py PORT > ../src/tests/eval_cases.rs   (run from this directory, against a freshly started
server: math.random's sequence is part of the expected replies), then `cargo fmt`.
"""
import sys; import os
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from resp_client import enc, read_reply
from eval_cases import C
import socket
sys.setrecursionlimit(100000)
port = int(sys.argv[1])
def conn(resp3):
    s = socket.create_connection(("127.0.0.1", port)); f = s.makefile("rb")
    if resp3: s.sendall(enc(["HELLO","3"])); read_reply(f)
    return s, f
c2 = conn(False); c3 = conn(True)
def rs(b):
    return 'b"' + ''.join(chr(x) if 32 <= x < 127 and chr(x) not in '"\\' else '\\x%02x' % x for x in b) + '"'
def rstr(s):
    return '"' + s.replace('\\','\\\\').replace('"','\\"') + '"'
print("// Generated against redis-server 7.0.15 by running each case with EVAL (FLUSHALL between).")
print("/// Script, keys, arguments, whether the client speaks RESP3, redis-server's reply.\npub(super) type EvalCase = (&'static str, &'static [&'static str], &'static [&'static str], bool, &'static [u8]);\n\npub(super) const EVAL_CASES: &[EvalCase] = &[")
for script, keys, args, resp3 in C:
    s, f = c3 if resp3 else c2
    s.sendall(enc(["FLUSHALL"])); read_reply(f)
    s.sendall(enc(["EVAL", script, str(len(keys))] + keys + args)); r = read_reply(f)
    print("    (%s, &[%s], &[%s], %s, %s)," % (rstr(script), ", ".join(map(rstr, keys)), ", ".join(map(rstr, args)), "true" if resp3 else "false", rs(r)))
print("];")
