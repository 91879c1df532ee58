"""The example binding in cpp/bindings/checks.h compiles against the headers as they are, so the pattern it
teaches calls functions that exist. Needs a C++ compiler and pybind11's headers (pip install '.[test]')."""

import os
import shutil
import subprocess
import sysconfig

import pytest

from conftest import needs_source_tree

pytestmark = needs_source_tree

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CHECKS = os.path.join(ROOT, "cpp", "bindings", "checks.h")
COMPILER = shutil.which("c++") or shutil.which("g++") or shutil.which("clang++")


def example_of(header):
    """The comment lines between '// Pattern of a binding' and the first line that is no longer the example."""
    with open(header) as f:
        lines = f.read().splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("// Pattern of a binding"))
    body = []
    for line in lines[start + 1:]:
        if not line.startswith("//   "):
            if body:
                break
            continue
        body.append(line[len("//   "):])
    return "\n".join(body)


def test_the_example_is_found():
    example = example_of(CHECKS)
    assert example.startswith("py::array ") and "run_kernel" in example and example.rstrip().endswith("}")


@pytest.mark.skipif(COMPILER is None, reason="needs a C++ compiler")
def test_the_example_binding_compiles(tmp_path):
    pybind11 = pytest.importorskip("pybind11", reason="needs pybind11's headers (pip install '.[test]')")
    source = tmp_path / "example.cpp"
    source.write_text('#include "activation.h"\n#include "bindings/checks.h"\n\nnamespace nntrain::bind {\n'
                      + example_of(CHECKS) + "\n}  // namespace nntrain::bind\n")
    done = subprocess.run([COMPILER, "-std=c++17", "-fsyntax-only", "-I", os.path.join(ROOT, "cpp"),
                           "-I", pybind11.get_include(), "-I", sysconfig.get_paths()["include"], str(source)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
