"""The tape's cost per node: a chain of N cheap ops (``y = y + 1`` on a 1-element tensor), so that the
arithmetic is nothing and what is timed is the dispatch, the recording and the backward's walk.

    python -m bench.tape_overhead [--nodes 2000] [--repeats 7]

Per node, best of the repeats, the modes interleaved in every repeat (a shared machine drifts; a ratio
within one round holds):
    numpy        a = a + 1 on the bare array: the floor
    no_grad      Tensor ops with recording off: dispatch through Function.apply
    recorded     the same with an input that requires a gradient: one Context per op
    fwd+bwd      recorded forward and loss.backward()
The overheads printed under the table: recording (recorded - no_grad) and backward ((fwd+bwd) - recorded).
PyTorch, when installed, is measured the same way beside it.
"""

import argparse
import time

import numpy as np


def _chains(nodes):
    """name -> (library, callable running one chain of `nodes` ops)."""
    import nntrain

    x_plain = nntrain.tensor([0.5])
    x_leaf = nntrain.tensor([0.5], requires_grad=True)
    array = np.array([0.5], dtype=np.float32)

    def numpy_chain():
        a = array
        for _ in range(nodes):
            a = a + 1.0
        return a

    def chain(x):
        y = x
        for _ in range(nodes):
            y = y + 1.0
        return y

    def no_grad():
        with nntrain.no_grad():
            return chain(x_leaf)

    def fwd_bwd():
        x_leaf.grad = None
        chain(x_leaf).sum().backward()

    modes = {("nntrain", "numpy"): numpy_chain, ("nntrain", "no_grad"): no_grad,
             ("nntrain", "recorded"): lambda: chain(x_leaf), ("nntrain", "fwd+bwd"): fwd_bwd}
    _validate(nodes, chain(x_plain).item(), chain(x_leaf), fwd_bwd, lambda: x_leaf.grad)
    try:
        import torch
    except ImportError:
        return modes
    t_leaf = torch.tensor([0.5], requires_grad=True)

    def t_no_grad():
        with torch.no_grad():
            return chain(t_leaf)

    def t_fwd_bwd():
        t_leaf.grad = None
        chain(t_leaf).sum().backward()

    modes.update({("torch", "no_grad"): t_no_grad, ("torch", "recorded"): lambda: chain(t_leaf),
                  ("torch", "fwd+bwd"): t_fwd_bwd})
    _validate(nodes, t_no_grad().item(), chain(t_leaf), t_fwd_bwd, lambda: t_leaf.grad.numpy())
    return modes


def _validate(nodes, value, recorded, fwd_bwd, grad):
    """The chain computes 0.5 + nodes, records every op, and its gradient is 1."""
    assert abs(value - (0.5 + nodes)) < 1e-3 * nodes, value
    assert recorded.requires_grad
    fwd_bwd()
    np.testing.assert_allclose(np.asarray(grad()), [1.0])


def measure(nodes=2000, repeats=7):
    """{(library, mode): best seconds per node}, every mode timed once per round, rounds interleaved."""
    modes = _chains(nodes)
    best = {key: float("inf") for key in modes}
    for fn in modes.values():  # warm up: imports, caches, the allocator
        fn()
    for _ in range(repeats):
        for key, fn in modes.items():
            start = time.perf_counter()
            fn()
            best[key] = min(best[key], (time.perf_counter() - start) / nodes)
    return best


def report(best):
    us = {k: v * 1e6 for k, v in best.items()}
    libraries = sorted({lib for lib, _ in us}, key=lambda lib: lib != "nntrain")
    lines = [f"{'mode':<10}" + "".join(f"{lib + ' us/node':>18}" for lib in libraries)]
    for mode in ("numpy", "no_grad", "recorded", "fwd+bwd"):
        cells = [f"{us[(lib, mode)]:>18.3f}" if (lib, mode) in us else f"{'':>18}" for lib in libraries]
        lines.append(f"{mode:<10}" + "".join(cells))
    lines.append("")
    for lib in libraries:
        record = us[(lib, "recorded")] - us[(lib, "no_grad")]
        back = us[(lib, "fwd+bwd")] - us[(lib, "recorded")]
        lines.append(f"{lib}: recording {record:.3f} us/node, backward {back:.3f} us/node, "
                     f"whole tape {record + back:.3f} us/node")
    if "torch" in libraries:
        ratio = us[("nntrain", "fwd+bwd")] / us[("torch", "fwd+bwd")]
        lines.append(f"nntrain / torch, forward+backward per node: {ratio:.2f}")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m bench.tape_overhead", description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=2000, help="ops in the chain (default 2000)")
    parser.add_argument("--repeats", type=int, default=7, help="rounds; the best of them counts (default 7)")
    args = parser.parse_args(argv)
    import nntrain

    nntrain.set_num_threads(1)
    print(f"tape overhead: a chain of {args.nodes} ops y = y + 1 on a 1-element float32 tensor, best of "
          f"{args.repeats} interleaved rounds")
    print(report(measure(args.nodes, args.repeats)))


if __name__ == "__main__":
    main()
