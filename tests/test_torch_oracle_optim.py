"""Every optimiser against torch.optim: the same parameters and gradients, five steps, parameters and state
compared after each; and gradient clipping against torch.nn.utils.clip_grad_norm_. float32. Oracle tests:
marked `torch` (tests/conftest.py); the tolerance is explained in tests/torch_oracle.py."""

import numpy as np
import pytest

from conftest import import_torch

pytestmark = pytest.mark.torch
torch = import_torch()

from nntrain import nn, optim  # noqa: E402

from torch_oracle import assert_close  # noqa: E402

SHAPES = [(4, 3), (5,), (2, 3, 2), ()]

# name: (nntrain optimiser, torch optimiser, hyper-parameters in both libraries' names)
OPTIMIZERS = {
    "SGD": (optim.SGD, torch.optim.SGD, dict(lr=0.1)),
    "SGD-weight-decay": (optim.SGD, torch.optim.SGD, dict(lr=0.1, weight_decay=0.05)),
    "SGD-momentum": (optim.SGD, torch.optim.SGD, dict(lr=0.05, momentum=0.9)),
    "SGD-momentum-dampening": (optim.SGD, torch.optim.SGD, dict(lr=0.05, momentum=0.8, dampening=0.3,
                                                                weight_decay=0.01)),
    "SGD-nesterov": (optim.SGD, torch.optim.SGD, dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.01)),
    "Adagrad": (optim.Adagrad, torch.optim.Adagrad, dict(lr=0.1)),
    "Adagrad-decay-init": (optim.Adagrad, torch.optim.Adagrad, dict(lr=0.1, lr_decay=0.05, weight_decay=0.02,
                                                                    initial_accumulator_value=0.3, eps=1e-6)),
    "RMSprop": (optim.RMSprop, torch.optim.RMSprop, dict(lr=0.01)),
    "RMSprop-momentum-centered": (optim.RMSprop, torch.optim.RMSprop, dict(lr=0.01, alpha=0.9, momentum=0.5,
                                                                           centered=True, weight_decay=0.01)),
    "Adam": (optim.Adam, torch.optim.Adam, dict(lr=0.01)),
    "Adam-weight-decay": (optim.Adam, torch.optim.Adam, dict(lr=0.01, betas=(0.8, 0.99), eps=1e-6,
                                                             weight_decay=0.1)),
    "AdamW": (optim.AdamW, torch.optim.AdamW, dict(lr=0.01)),
    "AdamW-weight-decay": (optim.AdamW, torch.optim.AdamW, dict(lr=0.01, betas=(0.85, 0.95), weight_decay=0.3)),
}


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_five_steps_match_torch(rng, name):
    ours_cls, theirs_cls, hyper = OPTIMIZERS[name]
    params = [nn.Parameter(rng.standard_normal(s).astype(np.float32)) for s in SHAPES]
    tparams = [torch.nn.Parameter(torch.from_numpy(p.data.copy())) for p in params]
    ours, theirs = ours_cls(params, **hyper), theirs_cls(tparams, **hyper)
    for step in range(1, 6):
        for p, tp in zip(params, tparams):
            p.grad = rng.standard_normal(p.shape).astype(p.dtype)
            tp.grad = torch.from_numpy(p.grad.copy())
        ours.step()
        theirs.step()
        for i, (p, tp) in enumerate(zip(params, tparams)):
            assert p.shape == tuple(tp.shape)
            assert_close(p.data, tp.detach().numpy(), f"{name}: parameter {i} after step {step}")
            for key, value in ours.state.get(p, {}).items():
                assert_close(value, theirs.state[tp][key].numpy(), f"{name}: {key} of parameter {i}, step {step}")


@pytest.mark.parametrize("max_norm", [0.5, 100.0])
def test_clip_grad_norm_matches_torch(rng, max_norm):
    params = [nn.Parameter(rng.standard_normal(s).astype(np.float32)) for s in SHAPES]
    tparams = [torch.nn.Parameter(torch.from_numpy(p.data.copy())) for p in params]
    for p, tp in zip(params, tparams):
        p.grad = rng.standard_normal(p.shape).astype(p.dtype)
        tp.grad = torch.from_numpy(p.grad.copy())
    norm = optim.clip_grad_norm_(params, max_norm)
    tnorm = torch.nn.utils.clip_grad_norm_(tparams, max_norm)
    assert_close(norm, tnorm.item(), "norm before clipping")
    for i, (p, tp) in enumerate(zip(params, tparams)):
        assert_close(p.grad, tp.grad.numpy(), f"clipped gradient {i}")
