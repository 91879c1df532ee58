"""Data-parallel training over MPI: `mpiexec -n 2 nntrain train` reaches the weights one process reaches
with the same global batch (to float rounding); only rank 0 prints and writes. Skips without MPI."""

import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

from nntrain.checkpoint import load_weights

from cli_helpers import parse_json, run_process

pytest.importorskip("mpi4py", reason="distributed tests need mpi4py and an MPI: pip install 'nntrain[mpi]'")
MPIEXEC = shutil.which("mpiexec") or shutil.which(os.path.join(os.path.dirname(sys.executable), "mpiexec"))
pytestmark = pytest.mark.skipif(MPIEXEC is None, reason="no mpiexec on PATH (pip install 'nntrain[mpi]')")


def mpiexec(ranks, *args):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    return subprocess.run([MPIEXEC, "-n", str(ranks), sys.executable, "-m", "nntrain", *map(str, args)],
                          capture_output=True, text=True, timeout=600, env=env)


def one_and_two_ranks(tmp_path, *args):
    """`nntrain ARGS` in one process and over 2 ranks: (weights of one, weights of two, the two results),
    after checking both exited 0."""
    single = run_process(*args, "--out", tmp_path / "one")
    double = mpiexec(2, *args, "--out", tmp_path / "two")
    assert single.returncode == 0 and double.returncode == 0, single.stderr + double.stderr
    return (load_weights(tmp_path / "one" / "model.safetensors"), load_weights(tmp_path / "two" / "model.safetensors"),
            single, double)


def assert_same_weights(a, b):
    for k in a:
        np.testing.assert_allclose(a[k], b[k], rtol=1e-4, atol=2e-6, err_msg=k)


def test_two_ranks_reach_the_weights_of_one_process(tmp_path):
    a, b, single, double = one_and_two_ranks(tmp_path, "train", "--epochs", 3, "--batch-size", 32, "--seed", 4,
                                             "--json", "--threads", 1)
    # one JSON line: only rank 0 prints
    assert len([line for line in double.stdout.splitlines() if line.startswith("{")]) == 1
    assert_same_weights(a, b)
    one, two = parse_json(single.stdout), parse_json(double.stdout)
    assert two["train"]["loss"] == pytest.approx(one["train"]["loss"], rel=1e-4)
    assert two["test"]["accuracy"] == pytest.approx(one["test"]["accuracy"], abs=1 / 360 + 1e-9)


def test_a_global_batch_that_does_not_split_evenly_still_matches(tmp_path):
    # 1,293 training examples in batches of 45 over 2 ranks: slices of 22 and 23, a last batch of 33.
    a, b, _, _ = one_and_two_ranks(tmp_path, "train", "--epochs", 1, "--batch-size", 45, "--json", "--threads", 1)
    assert_same_weights(a, b)


def test_a_network_from_a_users_file_trains_data_parallel_as_in_one_process(tmp_path):
    # define-by-run: two branches and a layer used twice; its gradient is summed over both uses on every
    # rank before the ranks' gradients are averaged
    net = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "examples", "two_branch.py")
    a, b, _, _ = one_and_two_ranks(tmp_path, "train", "--model", f"{net}:TwoBranch", "--epochs", 1, "--batch-size", 32,
                                   "--seed", 2, "--json", "--threads", 1)
    assert "shared.weight" in a
    assert_same_weights(a, b)


WORKER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "distributed_worker.py")


def _worker(*args, ranks=None):
    """The last stdout line of tests/distributed_worker.py, run alone or by mpiexec on `ranks` ranks, as JSON."""
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    command = [sys.executable, WORKER, *map(str, args)]
    if ranks is not None:
        command = [MPIEXEC, "-n", str(ranks), *command]
    out = subprocess.run(command, capture_output=True, text=True, timeout=300, env=env)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("model", ["mlp", "cnn", "two_branch", "frozen"])
def test_gradients_summed_in_many_buckets_reach_the_weights_of_one_process(tmp_path, model):
    # tiny buckets (4 KiB) so that each model's gradients travel in several all-reduces; global batches of
    # 45, 45, 33 and 1 (uneven slices, and a step where rank 0 has no example and so no gradient at all);
    # "frozen" has a frozen bias and a layer no forward calls (it must keep grad None, untouched by weight
    # decay, as in one process); "two_branch" is define-by-run with one layer used twice
    _worker(model, 0, tmp_path / "one.npz")
    assert _worker(model, 4096, tmp_path / "two.npz", ranks=2)["buckets"] >= 4
    one, two = np.load(tmp_path / "one.npz"), np.load(tmp_path / "two.npz")
    assert sorted(one) == sorted(two)
    tolerance = dict(rtol=1e-10, atol=1e-13) if model == "mlp" else dict(rtol=1e-5, atol=1e-7)  # mlp: float64
    for k in one:
        np.testing.assert_allclose(two[k], one[k], **tolerance, err_msg=k)


def test_the_first_buckets_are_all_reduced_while_backward_goes_on():
    events = _worker("overlap")
    # a bucket per parameter: the second Linear's two start before backward reaches the first Linear, whose
    # two start with the count of ranks that had each gradient
    assert events == ["start", "start", "probe", "start", "start", "start", "backward returned"]


def test_average_gradients_after_backward_scales_and_leaves_unused_parameters_without_gradient():
    assert _worker("after") == {"scaled": True, "unused": True}


def _threads_per_rank(ranks, cores=None, **env):
    """Each rank's threads_per_rank() in an mpiexec job whose processes may run on `cores` (default: all)."""
    code = ("from nntrain.distributed import Distributed; d = Distributed(); "
            "t = d.comm.gather(d.threads_per_rank(), root=0); d.is_root and print(t)")
    environ = dict((k, v) for k, v in os.environ.items() if k != "OMP_NUM_THREADS")
    environ.update(env, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    out = subprocess.run([MPIEXEC, "-n", str(ranks), sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120, env=environ,
                         preexec_fn=None if cores is None else (lambda: os.sched_setaffinity(0, cores)))
    assert out.returncode == 0, out.stderr
    return [line for line in out.stdout.splitlines() if line.startswith("[")]


def test_ranks_share_the_cores_of_their_host_without_oversubscribing_them():
    cores = len(os.sched_getaffinity(0))
    for ranks in (1, 2, 3):
        assert _threads_per_rank(ranks)[0] == str([max(1, cores // ranks)] * ranks)


def test_ranks_count_only_the_cores_they_may_run_on():
    # one core allowed (as by a container or a batch scheduler): one thread, not the machine's count
    assert _threads_per_rank(1, cores={min(os.sched_getaffinity(0))})[0] == "[1]"


def test_omp_num_threads_set_by_the_user_is_kept(tmp_path):
    assert _threads_per_rank(2, OMP_NUM_THREADS="3")[0] == "[None, None]"
    env = dict(os.environ, OMP_NUM_THREADS="3", PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    out = subprocess.run([MPIEXEC, "-n", "2", sys.executable, "-m", "nntrain", "train", "--epochs", "1",
                          "--out", str(tmp_path / "run")], capture_output=True, text=True, timeout=600, env=env)
    assert out.returncode == 0, out.stderr
    assert "data-parallel over 2 MPI ranks, 3 threads each" in out.stdout


def test_two_ranks_train_from_an_image_folder_kept_in_memory_as_one_process(tmp_path):
    # each rank keeps its own copy of the images: auto's budget is the host's available memory shared among them
    from test_cli_images import write_digits

    folder = write_digits(tmp_path / "digits")
    a, b, _, _ = one_and_two_ranks(tmp_path, "train", "--data", folder, "--epochs", 1, "--batch-size", 32, "--json",
                                   "--threads", 1, "--cache-images", "auto")
    assert_same_weights(a, b)
