"""Job functions for rq_jobs.py: RQ runs jobs by import path, so they live in a module."""


def double(x):
    return x * 2


def explode():
    raise ValueError("boom")
