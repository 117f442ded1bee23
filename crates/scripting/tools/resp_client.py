"""A minimal RESP client that returns each reply's raw bytes (for the case generators)."""
import socket, sys, json
def enc(args):
    out = b"*%d\r\n" % len(args)
    for a in args:
        if isinstance(a, str): a = a.encode()
        out += b"$%d\r\n%s\r\n" % (len(a), a)
    return out
def read_reply(f):
    line = f.readline()
    t = line[:1]; rest = line[1:-2]
    if t in b"+-:_,#(": return line
    if t in b"$=":
        n = int(rest)
        if n < 0: return line
        return line + f.read(n + 2)
    if t in b"*~>%|":
        n = int(rest)
        if n < 0: return line
        if t in b"%|": n *= 2
        s = line
        for _ in range(n): s += read_reply(f)
        if t == b"|": s += read_reply(f)
        return s
    raise Exception("bad %r" % line)
def run(cmds, port=7391, resp3=False):
    s = socket.create_connection(("127.0.0.1", port)); f = s.makefile("rb")
    if resp3:
        s.sendall(enc(["HELLO","3"])); read_reply(f)
    res = []
    for c in cmds:
        s.sendall(enc(c)); res.append(read_reply(f))
    return res
if __name__ == "__main__":
    cases = json.load(open(sys.argv[1]))
    resp3 = len(sys.argv) > 2
    for c, r in zip(cases, run(cases, resp3=resp3)):
        print(repr(c[1]), "=>", r)
