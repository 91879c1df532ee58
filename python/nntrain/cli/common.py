"""What every command shares: turning user mistakes into one `Error:` line, and where output goes."""

import functools
import os
import sys

import click

from ..progress import console  # noqa: F401  (every command prints through it)

# Exit statuses: 2 for a mistake in what the user asked (as click uses for usage errors), 1 for a run
# that failed on its own (e.g. a diverging loss), 130 for an interrupt (128 + SIGINT).
EXIT_USAGE, EXIT_FAILED, EXIT_INTERRUPTED = 2, 1, 130


def fail(message, status=EXIT_USAGE):
    click.echo(f"Error: {message}", err=True)
    dist = sys.modules.get("nntrain.distributed")
    if dist is not None and dist.active() is not None:
        dist.active().abort(status)  # the other ranks would wait for this one forever
    sys.exit(status)


def _one_line(error):
    text = str(error).strip() or type(error).__name__
    return " ".join(text.split())


def user_errors(fn):
    """Runs a command body; the errors a user can cause become `Error: <one line>` and exit status 2."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        from ..train import NonFiniteError

        try:
            return fn(*args, **kwargs)
        except NonFiniteError as e:
            fail(f"training stopped: {_one_line(e)}", EXIT_FAILED)
        except KeyboardInterrupt:
            click.echo("Interrupted.", err=True)
            sys.exit(EXIT_INTERRUPTED)
        except FileNotFoundError as e:
            fail(f"{e.filename}: no such file or directory" if e.filename else _one_line(e))
        except PermissionError as e:
            fail(f"{e.filename}: permission denied" if e.filename else _one_line(e))
        except OSError as e:
            fail(f"{e.filename}: {e.strerror}" if e.filename else _one_line(e))
        except MemoryError:
            fail("out of memory; try a smaller --batch-size or model")
        except ValueError as e:  # ConfigError, DataError, CheckpointError, RunError and argument checks
            fail(_one_line(e))

    return wrapper


def data_overrides(data):
    """The [data] settings a --data NAME|PATH flag stands for."""
    if data is None:
        return {}
    from ..data.finder import canonical_name

    looks_like_path = os.sep in data or data.endswith((".npz", ".csv", ".gz")) or os.path.exists(data)
    if looks_like_path:
        return {"path": data}
    return {"name": canonical_name(data), "path": ""}


def threads_option(threads):
    if threads is not None:
        if threads < 1:
            fail(f"--threads must be at least 1, got {threads}")
        import nntrain

        nntrain.set_num_threads(threads)
