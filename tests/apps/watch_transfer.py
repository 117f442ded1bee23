"""Bank transfers with redis-py's WATCH retry helper, from several processes at once.

Each worker moves money between accounts that live on different shards with
``Redis.transaction(func, *watches)`` (WATCH, read, MULTI, write, EXEC, retried
on a WatchError), and pipelines with ``transaction=True``. Checked: no money is
created or lost, every transfer happened exactly once, and the audit list has
one entry per transfer.
"""

import multiprocessing
import random
import sys

import redis

ACCOUNTS = [f"acct:{i}" for i in range(8)]
WORKERS = 4
TRANSFERS = 150
START = 1000


def worker(port, seed):
    r = redis.Redis(port=port)
    rng = random.Random(seed)
    retries = 0
    for _ in range(TRANSFERS):
        src, dst = rng.sample(ACCOUNTS, 2)
        amount = rng.randint(1, 20)

        def move(pipe):
            nonlocal retries
            retries += 1
            have = int(pipe.get(src))
            pipe.multi()
            if have >= amount:
                pipe.decrby(src, amount)
                pipe.incrby(dst, amount)
            pipe.incr("transfers")
            pipe.rpush("audit", f"{src}>{dst}:{amount if have >= amount else 0}")

        r.transaction(move, src, dst)
    # A pipeline in a transaction: the counters move together.
    for _ in range(50):
        with r.pipeline(transaction=True) as p:
            p.incr("pipelined:a").incr("pipelined:b").incr("pipelined:c")
            a, b, c = p.execute()
            assert a >= 1 and b >= 1 and c >= 1
    return retries - TRANSFERS


def main():
    port = int(sys.argv[1])
    r = redis.Redis(port=port)
    r.flushall()
    for a in ACCOUNTS:
        r.set(a, START)
    with multiprocessing.Pool(WORKERS) as pool:
        retries = pool.starmap(worker, [(port, s) for s in range(WORKERS)])
    total = sum(int(r.get(a)) for a in ACCOUNTS)
    assert total == START * len(ACCOUNTS), f"money not conserved: {total}"
    assert int(r.get("transfers")) == WORKERS * TRANSFERS
    assert r.llen("audit") == WORKERS * TRANSFERS
    moved = sum(int(e.rsplit(b":", 1)[1]) for e in r.lrange("audit", 0, -1))
    assert moved > 0
    for k in ("pipelined:a", "pipelined:b", "pipelined:c"):
        assert int(r.get(k)) == WORKERS * 50
    print(f"watch_transfer: {WORKERS * TRANSFERS} transfers, {sum(retries)} WATCH retries, total conserved")


if __name__ == "__main__":
    main()
