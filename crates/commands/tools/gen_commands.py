#!/usr/bin/env python3
"""Regenerates crates/commands/commands.json from a running redis-server 7.0.15.

The data file lists every command and subcommand Rustis serves. This script keeps what is
ours in it (the names we serve and their summaries, written in our own words) and refreshes
every other field from the reference server's own replies to COMMAND INFO and COMMAND DOCS:
arity, flags, ACL categories, legacy key range, tips, key specs, since, group, complexity,
doc flags, deprecation, history and arguments.

A row marked "reference": false describes a command the reference server does not have
(a later Redis version's); it is kept as written. A row's "later" object holds the fields in
which Rustis serves the command as a later Redis does (its "version", and e.g. "arity",
"arguments", "history"); it is kept as written and overrides the reference's fields.

Usage: gen_commands.py [--host 127.0.0.1] [--port 6379] [--file path/to/commands.json]
Add a command by adding {"name": ..., "summary": ...} (and for a subcommand, an entry in its
parent's "subcommands") to the file, then run this script against redis-server 7.0.15.
"""

import argparse
import json
import os
import socket
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_FILE = os.path.join(HERE, "..", "commands.json")


class Resp2:
    """A minimal RESP2 client: enough to read COMMAND's replies."""

    def __init__(self, host, port):
        self.sock = socket.create_connection((host, port))
        self.buf = b""

    def call(self, *args):
        out = b"*%d\r\n" % len(args)
        for a in args:
            a = a.encode() if isinstance(a, str) else a
            out += b"$%d\r\n%s\r\n" % (len(a), a)
        self.sock.sendall(out)
        return self._read()

    def _line(self):
        while b"\r\n" not in self.buf:
            chunk = self.sock.recv(1 << 16)
            if not chunk:
                raise EOFError("connection closed")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def _exact(self, n):
        while len(self.buf) < n + 2:
            chunk = self.sock.recv(1 << 16)
            if not chunk:
                raise EOFError("connection closed")
            self.buf += chunk
        data, self.buf = self.buf[:n], self.buf[n + 2:]
        return data

    def _read(self):
        line = self._line()
        kind, rest = line[:1], line[1:]
        if kind == b"+":
            return rest.decode()
        if kind == b"-":
            raise RuntimeError(rest.decode())
        if kind == b":":
            return int(rest)
        if kind == b"$":
            n = int(rest)
            return None if n < 0 else self._exact(n).decode()
        if kind == b"*":
            n = int(rest)
            return None if n < 0 else [self._read() for _ in range(n)]
        raise ValueError("unexpected reply %r" % line)


def pairs(flat):
    """A RESP2 map (a flat array of keys and values) as an ordered dict."""
    return dict(zip(flat[0::2], flat[1::2]))


def key_spec(flat):
    m = pairs(flat)
    out = {}
    if "notes" in m:
        out["notes"] = m["notes"]
    out["flags"] = m["flags"]
    for part in ("begin_search", "find_keys"):
        p = pairs(m[part])
        out[part] = {"type": p["type"], "spec": pairs(p["spec"])}
    return out


def argument(flat):
    m = pairs(flat)
    out = {}
    for k, v in m.items():
        if k == "arguments":
            out[k] = [argument(a) for a in v]
        elif k in ("name", "type", "key_spec_index", "token", "summary", "since",
                   "deprecated_since", "flags"):
            out[k] = v
        else:
            raise ValueError("unknown argument field %r" % k)
    return out


def docs(flat):
    m = pairs(flat)
    out = {}
    for k, v in m.items():
        if k == "summary":
            continue  # ours, kept from the data file
        if k == "arguments":
            out[k] = [argument(a) for a in v]
        elif k == "history":
            out[k] = [list(h) for h in v]
        elif k == "subcommands":
            out[k] = pairs(v)  # raw; each is refreshed with its own row
        elif k in ("since", "group", "complexity", "doc_flags", "deprecated_since",
                   "replaced_by"):
            out[k] = v
        else:
            raise ValueError("unknown docs field %r" % k)
    return out


def info(reply):
    name, arity, flags, first, last, step, acl, tips, specs, subs = reply
    return {
        "name": name,
        "arity": arity,
        "flags": flags,
        "first_key": first,
        "last_key": last,
        "step": step,
        "acl_categories": acl,
        "tips": tips,
        "key_specs": [key_spec(s) for s in specs],
        "subcommands": {s[0]: s for s in subs},
    }


def refresh(row, conn, sub_infos=None, sub_docs=None):
    """The row with every field but name and summary taken from the reference server."""
    name = row["name"]
    if row.get("reference") is False:
        return row
    if sub_infos is None:
        reply = conn.call("COMMAND", "INFO", name)[0]
        if reply is None:
            sys.exit("redis-server does not know %r; mark the row \"reference\": false" % name)
        doc_reply = pairs(conn.call("COMMAND", "DOCS", name))[name]
    else:
        if name not in sub_infos:
            sys.exit("redis-server has no subcommand %r" % name)
        reply, doc_reply = sub_infos[name], sub_docs[name]
    i = info(reply)
    d = docs(doc_reply)
    out = {"name": name, "summary": row["summary"]}
    if "later" in row:
        out["later"] = row["later"]
    for k in ("arity", "flags", "acl_categories", "first_key", "last_key", "step", "tips",
              "key_specs"):
        out[k] = i[k]
    for k in ("since", "group", "complexity", "doc_flags", "deprecated_since", "replaced_by",
              "history", "arguments"):
        if k in d:
            out[k] = d[k]
    if row.get("subcommands"):
        ours = row["subcommands"]
        infos = i["subcommands"]
        sub_docs_all = d.get("subcommands", {})
        out["subcommands"] = [refresh(s, conn, infos, sub_docs_all) for s in ours]
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=6379)
    ap.add_argument("--file", default=DEFAULT_FILE)
    a = ap.parse_args()
    with open(a.file) as f:
        rows = json.load(f)
    conn = Resp2(a.host, a.port)
    version = pairs(sum(([l.split(":", 1)[0], l.split(":", 1)[1]]
                         for l in conn.call("INFO", "server").splitlines()
                         if ":" in l), []))["redis_version"]
    if version != "7.0.15":
        sys.exit("the reference is redis-server 7.0.15, not %s" % version)
    out = [refresh(r, conn) for r in sorted(rows, key=lambda r: r["name"])]
    with open(a.file, "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")
    print("%d commands written to %s" % (len(out), a.file))


if __name__ == "__main__":
    main()
