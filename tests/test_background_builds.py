"""The background jobs (background_builds.py) must leave the CPU to the tests: idle scheduling policy, in
the tests' own session (a session of its own is an autogroup of its own, which Linux gives an equal share
of the CPU whatever its tasks' policy), in a process group of its own (so stop_all ends all of it)."""

import os
import sys

import pytest

import background_builds

REPORT = ("import os; print(os.getsid(0), os.getpgid(0), os.getpid(), os.sched_getscheduler(0), os.nice(0), "
          "os.environ['OMP_WAIT_POLICY'])")


@pytest.fixture
def report_job(monkeypatch):
    monkeypatch.setitem(background_builds.COMMANDS, "report", [sys.executable, "-c", REPORT])
    yield "report"
    _, log = background_builds._running.pop("report", (None, None))
    if log is not None:
        log.close()


@pytest.mark.skipif(not hasattr(os, "SCHED_IDLE"), reason="the idle scheduling policy is Linux's")
def test_a_job_runs_at_idle_priority_in_its_own_group_of_the_tests_session(report_job):
    status, out = background_builds.wait(report_job, timeout=60)
    assert status == 0, out
    sid, pgid, pid, policy, nice, wait_policy = out.split()
    assert int(sid) == os.getsid(0)   # not a new session: not an autogroup of its own
    assert int(pgid) == int(pid) != os.getpgid(0)  # its own group: killpg ends the job and nothing else
    assert int(policy) == os.SCHED_IDLE and int(nice) == 19 and wait_policy == "passive"
