"""The wheel as a user gets it: scripts/build-wheel builds and repairs it (auditwheel: a manylinux tag, libgomp
inside), then it is installed into a fresh virtual environment whose PATH has no compiler, and the command
and the library run from there, away from the source tree; and the sdist builds and installs in another. Slow (a release build of the core, started in the
background when the session starts: background_builds.py), but part of the suite CI runs."""

import os
import re
import shutil
import subprocess
import sys
import tarfile
import zipfile

import pytest

import background_builds
from conftest import needs_source_tree

COMPILERS = ("gcc", "g++", "cc", "c++", "clang", "clang++")

pytestmark = [
    pytest.mark.slow,
    pytest.mark.wheel,
    pytest.mark.background_build("wheel"),
    needs_source_tree,
    pytest.mark.skipif(shutil.which("g++") is None and shutil.which("c++") is None,
                       reason="building the wheel needs a C++ compiler"),
]


def run(args, **kwargs):
    result = subprocess.run([str(a) for a in args], capture_output=True, text=True, timeout=1200, **kwargs)
    assert result.returncode == 0, f"{args}: exit {result.returncode}\n{result.stdout[-3000:]}{result.stderr[-3000:]}"
    return result.stdout


@pytest.fixture(scope="module")
def built():
    status, log = background_builds.wait("wheel")
    assert status == 0, f"scripts/build-wheel failed:\n{log[-3000:]}"
    return log


@pytest.fixture(scope="module")
def wheel(built):
    return re.search(r"^wheel: (.+\.whl)$", built, re.M).group(1), built


def test_the_sdist_has_the_sources_and_no_build_products(built):
    path = re.search(r"^sdist: (.+\.tar\.gz)$", built, re.M).group(1)
    with tarfile.open(path) as sdist:
        names = [n.split("/", 1)[1] for n in sdist.getnames() if "/" in n]
    for needed in ("pyproject.toml", "CMakeLists.txt", "README.md", "LICENSE", "cpp/dispatch.cpp",
                   "cpp/kernels/gemm_ukernel_avx512.cpp", "cpp/bindings/module.cpp", "python/nntrain/__init__.py",
                   "python/nntrain/_core.pyi", "tests/conftest.py"):
        assert needed in names, needed
    assert not [n for n in names if n.startswith(("build/", "dist/")) or n.endswith((".so", ".o", ".pyc"))]


def test_the_repaired_wheel_is_manylinux_and_carries_its_openmp_runtime(wheel):
    path, out = wheel
    tag = re.search(r'consistent with\s+the following platform tag:\s*"(manylinux_\d+_\d+_x86_64)"', out)
    assert tag, out
    assert path.endswith(f"-{tag.group(1)}.whl") or f".{tag.group(1)}." in path, (path, tag.group(1))
    names = zipfile.ZipFile(path).namelist()
    assert any(re.fullmatch(r"nntrain/_core\.cpython-[^/]+\.so", n) for n in names), names
    assert any(re.fullmatch(r"nntrain\.libs/libgomp[^/]*\.so[.\d]*", n) for n in names), names
    assert not any(n.endswith((".cpp", ".h")) for n in names)


def test_the_wheel_installs_and_trains_in_a_fresh_venv_without_a_compiler(wheel, tmp_path):
    path, _ = wheel
    venv = tmp_path / "venv"
    run([sys.executable, "-m", "venv", venv])
    bin_dir = venv / "bin"
    run([bin_dir / "python", "-m", "pip", "install", "--quiet", "--disable-pip-version-check", path])
    # The user's shell: the venv's bin/ and nothing that compiles; no PYTHONPATH, and a working directory
    # outside the source tree, so only the installed wheel can be imported.
    env = {"PATH": str(bin_dir), "HOME": str(tmp_path), "LANG": "C.UTF-8"}
    assert [c for c in COMPILERS if shutil.which(c, path=env["PATH"])] == []

    def user(*args):
        return run(args, cwd=tmp_path, env=env)

    version = user("nntrain", "--version")
    assert version.startswith("nntrain ") and "kernels: " in version and "OpenMP: on" in version, version
    info = user("python", "-c", "import nntrain; print(nntrain.build_info())")
    assert "'openmp': True" in info and "'baseline': 'ref'" in info, info
    # The core is the installed one, and the OpenMP runtime it runs on is the copy inside the wheel.
    where = user("python", "-c", "import nntrain, nntrain._core as c; print(c.__file__); "
                 "print(*[l.split()[-1] for l in open('/proc/self/maps') if 'libgomp' in l], sep='\\n')")
    core, *gomp = where.split()
    assert core.startswith(str(venv)), core
    assert gomp and all("nntrain.libs" in g and g.startswith(str(venv)) for g in gomp), gomp
    trained = user("nntrain", "train", "--out", tmp_path / "run")
    assert re.search(r"test accuracy \d+\.\d+%", trained), trained
    assert (tmp_path / "run" / "model.safetensors").exists()


def test_the_sdist_builds_and_installs_in_a_fresh_venv(built, tmp_path):
    # What pip does where no wheel fits the machine: build the core from the sdist alone (its build
    # requirements come from the package index), away from the source tree.
    path = re.search(r"^sdist: (.+\.tar\.gz)$", built, re.M).group(1)
    venv = tmp_path / "venv"
    run([sys.executable, "-m", "venv", venv])
    python = venv / "bin" / "python"
    run([python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", path], cwd=tmp_path)
    version = run([venv / "bin" / "nntrain", "--version"], cwd=tmp_path)
    assert version.startswith("nntrain ") and "kernels: " in version, version
    where = run([python, "-c", "import nntrain._core as c; print(c.__file__)"], cwd=tmp_path, env={"HOME": str(tmp_path)})
    assert where.strip().startswith(str(venv)), where
