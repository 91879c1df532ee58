"""GEMM GFLOP/s of nntrain against NumPy (OpenBLAS) and PyTorch when importable, on square sizes."""

import numpy as np

import nntrain
from nntrain import functional as F

from .timing import best_seconds


def peers():
    """(name, matmul(a, b)) of each library measured beside nntrain."""
    found = [("numpy", lambda a, b: a @ b)]
    try:
        import torch
        torch.set_num_threads(nntrain.get_num_threads())
        found.append(("torch", lambda a, b, mm=torch.mm, t=torch.from_numpy: mm(t(a), t(b))))
    except ImportError:
        pass
    return found


def gemm_rows(sizes=(256, 512, 1024, 2048), dtype=np.float32):
    rng = np.random.default_rng(0)
    rows = []
    for n in sizes:
        a = rng.standard_normal((n, n)).astype(dtype)
        b = rng.standard_normal((n, n)).astype(dtype)
        flops = 2.0 * n * n * n
        row = {"shape": f"{n}x{n}x{n}", "nntrain": flops / best_seconds(lambda: F.matmul(a, b)) / 1e9}
        for name, mm in peers():
            row[name] = flops / best_seconds(lambda: mm(a, b)) / 1e9
        rows.append(row)
    return rows


if __name__ == "__main__":
    info = nntrain.build_info()
    print(f"threads={info['threads']} isa={info['isa']}")
    for row in gemm_rows():
        print(f"{row['shape']:>16}  " + "  ".join(f"{k} {v:7.1f} GF/s" for k, v in row.items() if k != "shape")
              + f"  ratio vs numpy {row['nntrain'] / row['numpy']:.2f}")
