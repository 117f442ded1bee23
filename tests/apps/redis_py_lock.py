"""redis-py's Lock under contention from several processes.

Each worker takes ``Redis.lock`` (SET NX PX to acquire; Lua scripts to release
and extend) around a read-modify-write that is not atomic by itself (GET, then
SET of the value plus one) and records in a set that it is inside the critical
section. Checked: no update is lost and no two holders were ever inside at once.
"""

import multiprocessing
import sys

import redis

WORKERS = 4
ROUNDS = 100


def worker(port, me):
    r = redis.Redis(port=port)
    overlaps = 0
    for _ in range(ROUNDS):
        with r.lock("resource", timeout=10, blocking_timeout=30, sleep=0.001):
            if r.sadd("inside", me) != 1 or r.scard("inside") != 1:
                overlaps += 1
            value = int(r.get("counter") or 0)
            r.set("counter", value + 1)
            r.srem("inside", me)
    # extend and reacquire, as long-running holders do.
    lock = r.lock(f"own:{me}", timeout=5)
    assert lock.acquire(blocking=False)
    assert lock.extend(5)
    assert lock.owned()
    lock.release()
    assert not lock.locked()
    return overlaps


def main():
    port = int(sys.argv[1])
    r = redis.Redis(port=port)
    r.flushall()
    with multiprocessing.Pool(WORKERS) as pool:
        overlaps = pool.starmap(worker, [(port, i) for i in range(WORKERS)])
    assert sum(overlaps) == 0, f"two holders at once {sum(overlaps)} times"
    assert int(r.get("counter")) == WORKERS * ROUNDS, r.get("counter")
    print(f"redis_py_lock: {WORKERS * ROUNDS} critical sections, no overlap, no lost update")


if __name__ == "__main__":
    main()
