"""Running the `nntrain` command in tests: in-process through click's CliRunner, or as a real process."""

import json
import os
import subprocess
import sys

from click.testing import CliRunner

from nntrain.cli import main


def invoke(*args, env=None):
    """(exit status, stdout, stderr) of `nntrain ARGS` run in this process."""
    try:
        runner = CliRunner(mix_stderr=False)  # click 8.1 (Python 3.9) mixes stderr into stdout by default
    except TypeError:
        runner = CliRunner()  # click >= 8.2 always keeps them apart
    result = runner.invoke(main, [str(a) for a in args], env=env, catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def run_process(*args, timeout=300, **kwargs):
    """`python -m nntrain ARGS` as a child process (the same interpreter and import path as the tests)."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)
    return subprocess.run([sys.executable, "-m", "nntrain", *map(str, args)], capture_output=True, text=True,
                          timeout=timeout, env=env, **kwargs)


def parse_json(stdout):
    return json.loads(stdout.strip().splitlines()[-1])


def assert_clean_error(status, stderr, expected_status=2, match=None):
    """One `Error: ...` line at the end of stderr, the right status, and no traceback."""
    assert status == expected_status, stderr
    assert "Traceback" not in stderr
    last = stderr.strip().splitlines()[-1]
    assert last.startswith("Error: "), stderr
    if match is not None:
        import re

        assert re.search(match, last), last
