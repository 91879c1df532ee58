"""Fetching batches ahead of the training step in worker processes or threads, handed back in order.

Batch b always goes to worker b % N and each worker works through its batches in order, so the main
process reads batch b from worker b % N and the order is the order of ``batches`` whatever the timing.
Each worker keeps up to ``prefetch`` batches queued, so while the model trains on one batch the next ones
are being decoded.

Processes are forked (the data set is inherited, never pickled; a script need not guard its training code
with ``if __name__ == "__main__"``). A worker only runs the data set's own Python, NumPy and Pillow code,
never the OpenMP kernels, which are not safe to use in a forked child. Workers ignore SIGINT (Ctrl-C
reaches the whole process group; the main process decides what it means), leave when the main process
is gone, and are daemons, so an interpreter that exits mid-epoch does not wait for them.
"""

import collections
import multiprocessing as mp
import multiprocessing.connection
import os
import signal
import sys
import traceback
import warnings

WORKER_TYPES = ("process", "thread")


def prefetched(fetch, batches, num_workers, worker_type="process", prefetch=2):
    """Yields ``fetch(batch)`` for each batch of indices in ``batches``, in order, computed by workers.

    An exception raised by ``fetch`` in a worker is raised here with the same type and message.
    """
    if worker_type == "thread":
        return _in_threads(fetch, batches, num_workers, prefetch)
    return _in_processes(fetch, batches, num_workers, prefetch)


def _in_threads(fetch, batches, n, prefetch):
    from concurrent.futures import ThreadPoolExecutor

    pool = ThreadPoolExecutor(n, thread_name_prefix="nntrain-data")
    try:
        ahead = collections.deque(pool.submit(fetch, b) for b in batches[:n * prefetch])
        following = len(ahead)
        while ahead:
            batch = ahead.popleft().result()
            if following < len(batches):
                ahead.append(pool.submit(fetch, batches[following]))
                following += 1
            yield batch
    finally:
        pool.shutdown(wait=False, cancel_futures=True)


def _in_processes(fetch, batches, n, prefetch):
    context = mp.get_context("fork" if "fork" in mp.get_all_start_methods() else None)
    workers = []  # (process, task sender, result receiver)
    try:
        for w in range(n):
            task_in, task_out = context.Pipe(duplex=False)
            result_in, result_out = context.Pipe(duplex=False)
            process = context.Process(target=_worker_loop, args=(fetch, task_in, result_out, os.getpid()),
                                      name=f"nntrain-data-{w}", daemon=True)
            with warnings.catch_warnings():
                # Python 3.12+ warns that forking a process with threads (ours: OpenMP's) may deadlock the
                # child if it takes a lock one of them held; the child never enters OpenMP code.
                warnings.simplefilter("ignore", DeprecationWarning)
                process.start()
            task_in.close()
            result_out.close()
            workers.append((process, task_out, result_in))
        sent = 0
        for _ in range(min(len(batches), n * prefetch)):
            workers[sent % n][1].send((sent, batches[sent]))
            sent += 1
        for b in range(len(batches)):
            process, _, results = workers[b % n]
            number, error, batch = _receive(process, results, b % n)
            if sent < len(batches):
                workers[sent % n][1].send((sent, batches[sent]))
                sent += 1
            if error is not None:
                raise _rebuild(error, b % n)
            assert number == b, (number, b)
            yield batch
    finally:
        _shut_down(workers)


def _receive(process, results, w):
    while True:
        ready = mp.connection.wait([results, process.sentinel])
        if results in ready:
            try:
                return results.recv()
            except EOFError:
                pass  # the worker died while sending
        if not process.is_alive():
            process.join()
            raise RuntimeError(f"DataLoader worker {w} (pid {process.pid}) exited unexpectedly "
                               f"with exit code {process.exitcode}")


def _shut_down(workers):
    for _, tasks, _ in workers:
        try:
            tasks.send(None)
        except OSError:
            pass
    for process, tasks, results in workers:
        process.join(timeout=0.5)  # an idle worker leaves at once; a busy one is not waited for
        if process.is_alive():
            process.terminate()
            process.join()
        tasks.close()
        results.close()


def _worker_loop(fetch, tasks, results, parent):
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    while True:
        try:
            if not tasks.poll(0.5):
                if os.getppid() != parent:
                    return  # orphaned: the main process is gone
                continue
            task = tasks.recv()
        except (EOFError, OSError):
            return
        if task is None:
            return
        number, indices = task
        try:
            message = (number, None, fetch(indices))
        except Exception as e:
            message = (number, _describe(e), None)
        try:
            results.send(message)
        except (EOFError, OSError):
            return
        except Exception as e:  # the batch itself could not be pickled
            results.send((number, _describe(e), None))


def _describe(error):
    """What the main process needs to raise the same error: its type by name, message, traceback."""
    kind = type(error)
    return kind.__module__, kind.__qualname__, str(error), "".join(traceback.format_exception(
        kind, error, error.__traceback__))


def _rebuild(description, w):
    module, qualname, message, trace = description
    kind = sys.modules.get(module)
    for part in qualname.split("."):
        kind = getattr(kind, part, None)
    error = None
    if isinstance(kind, type) and issubclass(kind, Exception):
        try:
            error = kind(message)
        except Exception:
            error = None
    if error is None:
        error = RuntimeError(f"{qualname}: {message}")
    if hasattr(error, "add_note"):
        error.add_note(f"raised in DataLoader worker {w}:\n{trace}")
    return error
