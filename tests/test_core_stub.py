"""python/nntrain/_core.pyi describes the compiled module as it is: it is exactly what scripts/gen-core-stub
writes, and, checked independently of that script, it has every function and constant of nntrain._core and
nothing else, each with the same parameters, defaults and docstring."""

import ast
import importlib.machinery
import importlib.util
import os
import re

import pytest

from nntrain import _core

from conftest import needs_source_tree

# The stub describes the module, not the kernels in use: these run once, not once per ISA.
pytestmark = [pytest.mark.isa_independent, needs_source_tree]

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
STUB = os.path.join(ROOT, "python", "nntrain", "_core.pyi")
GENERATOR = os.path.join(ROOT, "scripts", "gen-core-stub")


def load_generator():
    loader = importlib.machinery.SourceFileLoader("gen_core_stub", GENERATOR)
    spec = importlib.util.spec_from_loader("gen_core_stub", loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


def stub_tree():
    with open(STUB) as f:
        return ast.parse(f.read())


def public_names():
    return sorted(n for n in dir(_core) if not n.startswith("_"))


def test_the_stub_is_what_the_generator_writes():
    with open(STUB) as f:
        current = f.read()
    assert load_generator().render(_core) == current, "the stub is stale: run scripts/gen-core-stub"


def test_the_stub_names_exactly_the_module_functions_and_constants():
    tree = stub_tree()
    functions = {node.name for node in tree.body if isinstance(node, ast.FunctionDef)}
    constants = {node.target.id for node in tree.body if isinstance(node, ast.AnnAssign)}
    assert sorted(functions | constants) == public_names()
    assert functions == {n for n in public_names() if callable(getattr(_core, n))}


def compiled_parameters(fn):
    """[(name, default source or None)] from the pybind11 signature, the first line of __doc__."""
    signature = fn.__doc__.splitlines()[0]
    inside = signature[signature.index("(") + 1:signature.rindex(") -> ")]
    starts = [m.start(1) for m in re.finditer(r"(?:^|, )(\w+): ", inside)]
    params = []
    for begin, end in zip(starts, starts[1:] + [len(inside)]):
        text = inside[begin:end].rstrip(", ")
        name, _, rest = text.partition(": ")
        params.append((name, rest.split(" = ", 1)[1] if " = " in rest else None))
    return params


def literal(source):
    value = ast.literal_eval(source)
    return tuple(value) if isinstance(value, list) else value  # a pair's default: [0, 0] in pybind11, (0, 0) here


@pytest.mark.parametrize("node", [n for n in stub_tree().body if isinstance(n, ast.FunctionDef)], ids=lambda n: n.name)
def test_each_stub_function_has_the_module_parameters_defaults_and_docstring(node):
    fn = getattr(_core, node.name)
    args = node.args.args
    defaults = [None] * (len(args) - len(node.args.defaults)) + node.args.defaults
    ours = [(a.arg, None if d is None else ast.literal_eval(d)) for a, d in zip(args, defaults)]
    theirs = [(name, None if d is None else literal(d)) for name, d in compiled_parameters(fn)]
    assert ours == theirs
    assert ast.get_docstring(node) == fn.__doc__.split("\n", 1)[1].strip()
