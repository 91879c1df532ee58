"""python -m bench [--quick] [--json] [--only FAMILY,...] [--threads N]

Every number in a table is measured in this run, next to its peers measured the same way in the same
run; the ratio columns are what to read (timings on a shared machine drift, ratios within a run hold).
"""

import argparse
import json
import os
import sys
import time

FAMILIES = ("gemm", "conv", "elementwise", "recurrent", "training", "memory", "scaling", "allreduce", "data")


def _ratio(a, b):
    return None if a is None or b is None else a / b


def _fmt(v, spec, missing="not installed"):
    return missing if v is None else format(v, spec)


def _table(title, columns, rows):
    from rich.console import Console
    from rich.table import Table

    table = Table(*columns, title=title, title_justify="left")
    for row in rows:
        table.add_row(*row)
    Console(width=200 if not sys.stdout.isatty() else None).print(table)


def show_gemm(rows, threads):
    from .flops import peak_gflops

    peak = peak_gflops(threads)
    blas = rows[0].get("numpy_blas", "BLAS") if rows else "BLAS"
    _table(f"GEMM GFLOP/s, {threads} thread(s); peak {peak:.0f} GFLOP/s (microkernel in L1 x threads); numpy: {blas}",
           ["product", "M x N x K", "nntrain", "% peak", "way round", "other way", "numpy", "torch", "vs numpy",
            "vs torch"],
           [[r["shape"], r["dims"], f"{r['nntrain']:.1f}", f"{100 * r['nntrain'] / peak:.0f}%", r["way"],
             _fmt(r.get("other_way"), ".1f", "-"), f"{r['numpy']:.1f}", _fmt(r.get("torch"), ".1f"),
             f"{r['nntrain'] / r['numpy']:.2f}", _fmt(_ratio(r["nntrain"], r.get("torch")), ".2f")] for r in rows])


def show_conv(rows, threads):
    _table(f"conv2d ms per call, batch 64, {threads} thread(s); auto = the algorithm conv2d runs by default",
           ["layer", "pass", "im2col ms", "winograd ms", "auto", "GFLOP/s", "torch ms", "speed-up vs torch"],
           [[r["layer"], r["pass"], _fmt(r.get("im2col_ms"), ".2f", "-"), _fmt(r.get("winograd_ms"), ".2f", "-"),
             r["auto"], f"{r['nntrain_gflops']:.0f}", _fmt(r.get("torch_ms"), ".2f"),
             _fmt(_ratio(r.get("torch_ms"), r["nntrain_ms"]), ".2f")] for r in rows])


def show_elementwise(rows, threads):
    _table(f"elementwise GB/s, {threads} thread(s) (NumPy single-threaded, JAX as XLA runs it)",
           ["op", "nntrain", "numpy", "jax", "vs numpy", "vs jax"],
           [[r["op"], f"{r['nntrain_gbs']:.1f}", f"{r['numpy_gbs']:.1f}", _fmt(r.get("jax_gbs"), ".1f"),
             f"{r['nntrain_gbs'] / r['numpy_gbs']:.2f}", _fmt(_ratio(r["nntrain_gbs"], r.get("jax_gbs")), ".2f")]
            for r in rows])


def show_recurrent(rows, threads):
    _table(f"LSTM training step ms (forward + backward through time), {threads} thread(s)",
           ["size", "fused cell", "cell as Tensor ops", "torch", "fused vs Tensor ops", "fused vs torch"],
           [[r["size"], f"{r['fused_ms']:.2f}", f"{r['tensor_ops_ms']:.2f}", _fmt(r.get("torch_ms"), ".2f"),
             f"{r['tensor_ops_ms'] / r['fused_ms']:.2f}", _fmt(_ratio(r.get("torch_ms"), r["fused_ms"]), ".2f")]
            for r in rows])


def show_training(rows, threads):
    def share(r, lib):
        return _fmt(r["share_of_ceiling"].get(lib), ".1%", "-")

    _table("training samples/s (forward + backward + Adam, batch 64), each library's median pass; vs = median of "
           "the rounds' paired ratios; ceiling = samples/s if every Linear/Conv FLOP (bench/flops.py) ran at the "
           "microkernel's peak x threads; share = samples/s / ceiling",
           ["model", "threads", "nntrain", "torch", "jax", "vs torch", "vs jax", "MFLOP/sample", "ceiling",
            "nntrain share", "torch share", "jax share"],
           [[r["model"], str(r["threads"]), f"{r['nntrain']:,.0f}", _fmt(r.get("torch"), ",.0f"),
             _fmt(r.get("jax"), ",.0f"), _fmt(r.get("vs_torch"), ".2f"),
             _fmt(r.get("vs_jax"), ".2f"), f"{r['flops_per_sample'] / 1e6:.1f}",
             f"{r['ceiling']:,.0f}", share(r, "nntrain"), share(r, "torch"), share(r, "jax")] for r in rows])


def show_memory(rows, threads):
    _table("peak resident memory of one Fashion-MNIST mlp epoch", ["library", "peak RSS MiB"],
           [[r["library"], f"{r['peak_rss_mib']:.0f}"] for r in rows])


def show_scaling(rows, threads):
    base = {r["model"]: r["samples_per_second"] for r in reversed(rows)}   # each model's first row: 1 x 1
    _table("data-parallel training over MPI (samples/s, batch 64 global)",
           ["model", "ranks", "threads per rank", "samples/s", "vs 1 rank x 1 thread"],
           [[r["model"], str(r["ranks"]), str(r["threads"]), _fmt(r["samples_per_second"], ",.0f"),
             _fmt(_ratio(r["samples_per_second"], base[r["model"]]), ".2f")] for r in rows])


def show_allreduce(result, threads):
    from .allreduce import ring_seconds

    if result["alpha"] is None:
        print("allreduce: needs mpi4py and mpiexec (pip install 'nntrain[mpi]')")
        return
    alpha, beta = result["alpha"], result["beta"]
    _table(f"MPI Allreduce of float32, {result['ranks']} ranks on this host (shared memory)",
           ["bytes", "measured us", "model us", "GB/s"],
           [[f"{r['bytes']:,}", f"{r['seconds'] * 1e6:.1f}",
             f"{ring_seconds(result['ranks'], r['bytes'], alpha, beta) * 1e6:.1f}",
             f"{r['bytes'] / r['seconds'] / 1e9:.2f}"] for r in result["messages"]])
    print(f"ring model T(p, n) = 2(p-1)a + 2(p-1)/p n/b fitted to these: a = {alpha * 1e6:.2f} us, "
          f"b = {beta / 1e9:.2f} GB/s (a cluster's own: mpiexec -f hostfile -n 2 -ppn 1 python -m bench.allreduce)")
    show_cost_model(result, threads)


def show_cost_model(result, threads):
    from .cost_model import GLOBAL_BATCHES

    for model in result["models"]:
        c = model["costs"]
        _table(f"{c['model']}: predicted speed-up over 1 rank, one rank per host with {threads} thread(s) each "
               f"(bench/cost_model.py); per step {c['fixed_ms']:.2f} ms + {c['per_sample_us']:.1f} us per sample "
               f"measured here, {c['gradient_bytes'] / 2**20:.2f} MiB of gradients in {c['tensors']} Allreduces, "
               f"a = {result['alpha'] * 1e6:.2f} us, b = {result['beta'] / 1e9:.2f} GB/s",
               ["ranks", "all-reduce ms"] + [f"batch {b}" for b in GLOBAL_BATCHES]
               + ["doubling ranks pays above batch"],
               [[str(r["ranks"]), f"{r['allreduce_ms']:.3f}"]
                + [_fmt(r["speedup"][b], ".2f", "-") for b in GLOBAL_BATCHES] + [f"{r['pays_above_batch']:,.0f}"]
                for r in model["predictions"]])


def show_data(rows, threads):
    _table(f"cnn training samples/s on Fashion-MNIST: from PNG files (kept in memory after the start-up decode, or "
           f"decoded every epoch by DataLoader workers) vs from memory, {threads} thread(s)",
           ["source", "samples/s", "vs memory", "step waiting for data", "start-up s (load_data)"],
           [[r["source"], f"{r['samples_per_second']:,.0f}", f"{r['vs_memory']:.2f}", f"{r['waiting']:.1%}",
             f"{r['startup_seconds']:.1f}"] for r in rows])


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[2])
    parser.add_argument("--quick", action="store_true", help="fewer sizes and steps (about a minute)")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of tables")
    parser.add_argument("--only", default=",".join(FAMILIES), help=f"comma-separated subset of {','.join(FAMILIES)}")
    parser.add_argument("--threads", type=int, default=None, help="threads for the kernel families (default: all)")
    args = parser.parse_args(argv)
    families = [f.strip() for f in args.only.split(",") if f.strip()]
    unknown = [f for f in families if f not in FAMILIES]
    if unknown:
        parser.error(f"unknown family {', '.join(unknown)} (choose from {', '.join(FAMILIES)})")

    import nntrain

    from . import conv, cost_model, data, elementwise, gemm, recurrent, scaling, training
    from .peers import jax_version, torch_version

    threads = args.threads or nntrain.get_num_threads()
    nntrain.set_num_threads(threads)
    info = nntrain.build_info()
    report = {"nntrain": info, "torch": torch_version(), "jax": jax_version(), "threads": threads, "results": {}}
    if not args.json:
        print(f"nntrain {info['version']} ({info['isa']}, {info['compiler']}, {threads} threads), "
              f"torch {report['torch']}, jax {report['jax']}, numpy {__import__('numpy').__version__}, "
              f"{os.cpu_count()} CPUs")
    runners = {"gemm": lambda: gemm.run(threads, args.quick), "conv": lambda: conv.run(threads, args.quick),
               "elementwise": lambda: elementwise.run(threads, args.quick),
               "recurrent": lambda: recurrent.run(threads, args.quick),
               "training": lambda: training.run((1, 2) if threads >= 2 else (1,), args.quick),
               "memory": training.memory_rows, "scaling": lambda: scaling.run(args.quick),
               "allreduce": lambda: cost_model.run(args.quick),
               "data": lambda: data.run(args.quick)}
    shows = {"gemm": show_gemm, "conv": show_conv, "elementwise": show_elementwise, "recurrent": show_recurrent,
             "training": show_training,
             "memory": show_memory, "scaling": show_scaling, "allreduce": show_allreduce, "data": show_data}
    # The data family forks DataLoader workers: it runs first, before a JAX peer has started XLA's threads
    # (forking a process with those running may deadlock; JAX warns "os.fork() was called").
    families.sort(key=lambda f: f != "data")
    start = time.perf_counter()
    for family in families:
        rows = runners[family]()
        nntrain.set_num_threads(threads)
        report["results"][family] = rows
        if not args.json:
            shows[family](rows, threads)
    report["seconds"] = round(time.perf_counter() - start, 1)
    if args.json:
        print(json.dumps(report))
    else:
        print(f"measured in {report['seconds']} s")


if __name__ == "__main__":
    main()
