"""The rule for PyTorch-oracle tests (tests/conftest.py): marked `torch`, they skip when torch is absent,
but fail when NNTRAIN_REQUIRE_TORCH=1 (CI installs torch and must run them). Checked on small test files
run by pytest in a child process, with torch hidden or faked there."""

import os
import shutil
import subprocess
import sys
import textwrap

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))

WITHOUT_TORCH = """
    import sys
    sys.modules["torch"] = None  # an import of torch now fails, as if it were not installed
    import pytest
    from conftest import import_torch

    pytestmark = pytest.mark.torch
    torch = import_torch()

    def test_oracle():
        pass
"""

ORACLE_THAT_SKIPS = """
    import sys, types
    sys.modules["torch"] = types.ModuleType("torch")  # "installed"
    import pytest

    @pytest.mark.torch
    def test_oracle_skips_itself():
        pytest.skip("an oracle test that does not run")

    def test_not_an_oracle():
        pytest.skip("an ordinary skip stays a skip")
"""


def run_pytest(tmp_path, source, require):
    shutil.copy(os.path.join(HERE, "conftest.py"), tmp_path / "conftest.py")
    (tmp_path / "test_case.py").write_text(textwrap.dedent(source))
    (tmp_path / "test_other.py").write_text("def test_other():\n    pass\n")  # the session is never empty
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    env.pop("NNTRAIN_REQUIRE_TORCH", None)
    if require:
        env["NNTRAIN_REQUIRE_TORCH"] = "1"
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-rA", "-p", "no:cacheprovider", "-W",
                           "ignore::pytest.PytestUnknownMarkWarning", str(tmp_path)], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=300)
    return done.returncode, done.stdout + done.stderr


def test_without_torch_oracle_tests_skip(tmp_path):
    status, out = run_pytest(tmp_path, WITHOUT_TORCH, require=False)
    assert status == 0 and "1 passed, 1 skipped" in out and "PyTorch is not installed" in out, out


def test_without_torch_oracle_tests_fail_when_torch_is_required(tmp_path):
    status, out = run_pytest(tmp_path, WITHOUT_TORCH, require=True)
    assert status != 0 and "NNTRAIN_REQUIRE_TORCH=1 but PyTorch is not installed" in out, out


@pytest.mark.parametrize("require", [False, True])
def test_a_skipped_oracle_test_fails_only_when_torch_is_required(tmp_path, require):
    status, out = run_pytest(tmp_path, ORACLE_THAT_SKIPS, require)
    if require:
        assert status == 1 and "1 failed, 1 passed, 1 skipped" in out, out
        assert "oracle test skipped instead of running" in out, out
    else:
        assert status == 0 and "1 passed, 2 skipped" in out, out
