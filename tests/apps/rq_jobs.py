"""RQ, the Python job queue: jobs enqueued, run by a worker that subscribes to its pub/sub
command channel while it works, results stored and read back. Checked: every job finishes
once with its result, a failing job ends in the failed registry, and the queue is empty.
"""

import sys

import redis
from rq import Queue, SimpleWorker
from rq.job import Job, JobStatus

from rq_tasks import double, explode


def main():
    port = int(sys.argv[1])
    r = redis.Redis(port=port)
    r.flushall()
    q = Queue("apps", connection=r)
    jobs = [q.enqueue(double, i) for i in range(100)]
    failing = q.enqueue(explode)
    assert q.count == 101, q.count
    w = SimpleWorker([q], connection=r)
    w.work(burst=True)
    for i, job in enumerate(jobs):
        job = Job.fetch(job.id, connection=r)
        assert job.get_status() == JobStatus.FINISHED, (i, job.get_status())
        assert job.return_value() == 2 * i, (i, job.return_value())
    failing = Job.fetch(failing.id, connection=r)
    assert failing.get_status() == JobStatus.FAILED, failing.get_status()
    assert failing.id in q.failed_job_registry.get_job_ids()
    assert q.count == 0
    print("rq_jobs: 100 jobs finished with their results, 1 failed, queue empty")


if __name__ == "__main__":
    main()
