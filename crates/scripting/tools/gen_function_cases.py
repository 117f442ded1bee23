#!/usr/bin/env python3
"""Regenerates src/tests/function_cases.rs from a running redis-server 7.0.15.

Usage: gen_function_cases.py PORT > ../src/tests/function_cases.rs   (run from this directory, against a freshly started
server: math.random's sequence is part of the expected replies), then `cargo fmt`.
"""
import sys; import os
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from resp_client import enc, read_reply
from function_cases import S
import socket
port = int(sys.argv[1])
s = socket.create_connection(("127.0.0.1", port)); f = s.makefile("rb")
def rs(b):
    return 'b"' + ''.join(chr(x) if 32 <= x < 127 and chr(x) not in '"\\' else '\\x%02x' % x for x in b) + '"'
def rstr(x):
    return '"' + x.replace('\\','\\\\').replace('"','\\"').replace('\n','\\n') + '"'
print("// Generated against redis-server 7.0.15: each sequence runs after FUNCTION FLUSH.")
print("pub(super) const FUNCTION_CASES: &[&[(&[&str], &[u8])]] = &[")
for seq in S:
    s.sendall(enc(["FUNCTION","FLUSH"])); read_reply(f)
    print("    &[")
    for cmd in seq:
        s.sendall(enc(cmd)); r = read_reply(f)
        print("        (&[%s], %s)," % (", ".join(map(rstr, cmd)), rs(r)))
    print("    ],")
print("];")
# Lines whose reply is an arity error are dispatch's, not the engine's: filter them with
# grep -v "wrong number of arguments for" as the checked-in file was.
