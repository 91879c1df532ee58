"""Jobs that a test waits for (the instrumented core and the kernel tests run on it, the wheel) start as soon
as the session has collected its tests, at the lowest CPU priority, so that they use the core the other
tests leave idle instead of running after them; the tests that need them run last (conftest.py). A test
run on its own starts its job when it asks for it. Whatever is still running when the session ends is
stopped."""

import os
import signal
import subprocess
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# name -> the command, run from the source tree. Each writes only under build/ or its own output folder.
COMMANDS = {
    # the build and then the kernel tests on it: both in the background, so the session never waits for
    # the instrumented run after its own tests are done
    "sanitizer-core": [os.path.join(ROOT, "scripts", "sanitize-test")],
    "wheel": [os.path.join(ROOT, "scripts", "build-wheel"), os.path.join(ROOT, "build", "test-wheel")],
}

_running = {}


def start(name):
    if name in _running:
        return
    log = tempfile.TemporaryFile(mode="w+")
    # The session's own tests keep the CPU whenever they want it: the job runs under the idle scheduling
    # policy, which a waking test thread preempts at once (at nice 19 alone, the job still held a core for
    # a few milliseconds at a time, and the tests' two OpenMP threads waited at every barrier for the one
    # it had displaced: subprocess trainings ran 5-20x slower). Its own OpenMP threads sleep at barriers
    # instead of spinning. A process group of its own, so that stop() ends its compilers and tests too.
    env = dict(os.environ, OMP_WAIT_POLICY="passive")
    proc = subprocess.Popen(["nice", "-n", "19", *COMMANDS[name]], cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL, env=env, preexec_fn=_own_group_at_idle_priority)
    _running[name] = (proc, log)


def _own_group_at_idle_priority():
    """In the child, before exec: a new process group, and the SCHED_IDLE policy where the OS has it
    (inherited by every process the job starts); nice 19 stays as the fallback elsewhere.

    A process group, not a new session: Linux's autogroup scheduling (on by default in desktop and
    many VM kernels) makes every session a group that gets an equal share of the CPU whatever its
    tasks' policy or nice value, so a job in its own session took half the machine from the tests
    (the ctrl-C resume test: 7 s beside a job in the tests' session, 39 s beside one in its own)."""
    os.setpgid(0, 0)
    if hasattr(os, "sched_setscheduler") and hasattr(os, "SCHED_IDLE"):
        try:
            os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
        except OSError:
            pass


def wait(name, timeout=1800):
    """(exit status, output) of the job, started now if it was not yet."""
    start(name)
    proc, log = _running[name]
    proc.wait(timeout=timeout)
    log.seek(0)
    return proc.returncode, log.read()


def stop_all():
    for proc, log in _running.values():
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait()
        log.close()
    _running.clear()
