"""A network class from the user's own file: loaded, built with arguments, and every mistake one line."""

import numpy as np
import pytest

from nntrain import nn
from nntrain.config import ConfigError
from nntrain.user_model import build, file_digest, load_class, parse_spec

NET = '''
from nntrain import nn
from helper_layers import width   # a neighbouring file of the user's


class MyMLP(nn.Module):
    def __init__(self, num_classes=10, hidden=width):
        super().__init__()
        self.features = nn.Sequential(nn.Linear(64, hidden), nn.ReLU(), nn.Linear(hidden, num_classes))

    def forward(self, x):
        return self.features(x.flatten(1))


class NotALayer:
    pass
'''


@pytest.fixture
def net_file(tmp_path):
    (tmp_path / "helper_layers.py").write_text("width = 32\n")
    path = tmp_path / "net.py"
    path.write_text(NET)
    return path


def test_a_class_is_loaded_and_built_with_arguments(net_file):
    model = build(f"{net_file}:MyMLP", {"num_classes": 4}, np.random.default_rng(0))
    assert isinstance(model, nn.Module) and model.features[2].out_features == 4 and model.features[0].out_features == 32
    assert load_class(f"{net_file}:MyMLP") is type(model)  # imported once
    assert len(file_digest(net_file)) == 64


@pytest.mark.parametrize("spec,message", [
    ("net.py", r"expected a preset name or FILE.py:ClassName"),
    ("{dir}/missing.py:Net", r"missing.py: no such model file"),
    ("{file}:Nope", r"net.py: defines no class Nope \(it has MyMLP\)"),
    ("{file}:NotALayer", r"net.py:NotALayer is not a subclass of nntrain.nn.Module"),
])
def test_mistakes_are_one_line_errors(net_file, spec, message):
    spec = spec.format(dir=net_file.parent, file=net_file)
    with pytest.raises(ConfigError, match=message):
        load_class(spec)


def test_errors_inside_the_file_name_its_line(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("from nntrain import nn\n\nx = 1 / 0\n")
    with pytest.raises(ConfigError, match=r"bad.py:3: ZeroDivisionError: division by zero"):
        load_class(f"{bad}:Net")
    broken = tmp_path / "broken.py"
    broken.write_text("from nntrain import nn\nclass Net(nn.Module):\n    def __init__(self):\n        super().__init__()\n"
                      "        self.fc = nn.Linear(3, undefined_name)\n")
    with pytest.raises(ConfigError, match=r"broken.py:5: Net\(\) failed: NameError: name 'undefined_name'"):
        build(f"{broken}:Net", {}, np.random.default_rng(0))
    syntax = tmp_path / "syntax.py"
    syntax.write_text("def f(:\n")
    with pytest.raises(ConfigError, match=r"syntax.py:1: SyntaxError"):
        load_class(f"{syntax}:Net")
    assert parse_spec("a/b.py:Net") == ("a/b.py", "Net")
