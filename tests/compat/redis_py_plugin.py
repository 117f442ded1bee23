"""pytest plugin for the redis-py compatibility run: records one outcome per test.

Loaded by redis_py_compat.py with `-p redis_py_plugin`. It owns two things:

* Recording. Every event is appended as one JSON line to the file named by
  COMPAT_RESULTS and flushed at once, so the runner can tell how far a run got
  even when pytest dies mid-test (pytest-timeout's "thread" method, which some
  redis-py tests request, ends the whole process with os._exit).
* Resuming. Tests named in the file COMPAT_SKIP (one node id per line) are
  deselected, so that after such a crash the runner can start pytest again on
  the tests that have not run yet.

It must not change what a test does: no fixtures, no patching.
"""

import json
import os

import pytest

# One of these per test, folded from the setup, call and teardown reports.
PASSED = "passed"
FAILED = "failed"
SKIPPED = "skipped"
# When phases disagree, the later entry in this list wins.
_RANK = [PASSED, SKIPPED, FAILED]


class _Recorder:
    def __init__(self, path):
        self._out = open(path, "a", encoding="utf-8")
        self._outcome = {}

    def write(self, **event):
        self._out.write(json.dumps(event) + "\n")
        self._out.flush()

    def fold(self, report):
        """Fold one phase report into the test's outcome.

        A failure in any phase (an error in setup or teardown included) makes
        the test fail. An expected failure (xfail), or an unexpected pass of
        one, counts as skipped: redis-py marks those as not to be relied on.
        """
        if report.failed:
            new = FAILED
        elif report.skipped or hasattr(report, "wasxfail"):
            new = SKIPPED
        elif report.when == "call":
            new = PASSED
        else:
            return
        current = self._outcome.get(report.nodeid, PASSED)
        self._outcome[report.nodeid] = max(current, new, key=_RANK.index)

    def finish(self, nodeid):
        # A test whose setup passed and that never reached "call" (it cannot
        # happen in pytest, but be safe) is reported as failed, not passed.
        outcome = self._outcome.pop(nodeid, FAILED)
        self.write(event="result", id=nodeid, outcome=outcome)


_recorder = None


def pytest_configure(config):
    global _recorder
    path = os.environ.get("COMPAT_RESULTS")
    if path and not hasattr(config, "workerinput"):
        _recorder = _Recorder(path)


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config, items):
    """Drop the tests a previous, crashed attempt already ran."""
    skip_path = os.environ.get("COMPAT_SKIP")
    if skip_path and os.path.exists(skip_path):
        with open(skip_path, encoding="utf-8") as f:
            done = {line.strip() for line in f if line.strip()}
        keep = [item for item in items if item.nodeid not in done]
        dropped = [item for item in items if item.nodeid in done]
        if dropped:
            config.hook.pytest_deselected(items=dropped)
            items[:] = keep
    if _recorder:
        _recorder.write(event="collected", ids=[item.nodeid for item in items])


def pytest_runtest_logstart(nodeid, location):
    if _recorder:
        _recorder.write(event="start", id=nodeid)


def pytest_runtest_logreport(report):
    if _recorder:
        _recorder.fold(report)


def pytest_runtest_logfinish(nodeid, location):
    if _recorder:
        _recorder.finish(nodeid)


def pytest_sessionfinish(session, exitstatus):
    if _recorder:
        _recorder.write(event="finished", exitstatus=int(exitstatus))
