"""A figure rendered in other formats by a forked child while the caller goes on.

Writing a map as PNG, SVG and PDF draws it three times, one after another, on
one core. :func:`render_in_background` hands the vector formats to a forked
child (it shares the figure, nothing is pickled but the bytes it sends back)
so they are drawn on the second core while the parent draws the PNG and
writes the tables. Where ``fork`` is not available (Windows), on one usable
core, or inside a daemonic process (which may not have children) the formats
are drawn in the caller when their bytes are asked for, as before.

The child only draws: it writes no file and logs nothing. An exception in it
is sent back and raised in the parent, so a failure reads as it would
without the child, and nothing is published. The parent's other threads at
that point are idle solver and BLAS workers; the child calls neither, so it
takes no lock they might hold (Python 3.12+ still warns, with a
DeprecationWarning hidden by default, whenever a process with threads forks).
"""

from __future__ import annotations

import multiprocessing
import os
import pickle
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from matplotlib.figure import Figure


def usable_cores() -> int:
    """The cores this process may run on (its CPU affinity where the OS tells it)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def can_fork() -> bool:
    """Whether a forked child would run beside this process: fork, 2+ cores, not a daemon."""
    return (
        "fork" in multiprocessing.get_all_start_methods()
        and usable_cores() > 1
        and not multiprocessing.current_process().daemon
    )


def _child(render, fig: Figure, formats: list[str], send, receive) -> None:
    # the parent's end closed here too: if the parent dies, sending fails instead of
    # waiting for a reader forever
    receive.close()
    try:
        message: tuple[str, Any] = ("ok", {fmt: render(fig, fmt) for fmt in formats})
    except BaseException as exc:
        try:
            pickle.dumps(exc)
            message = ("error", exc)
        except Exception:
            message = ("error", RuntimeError(f"{type(exc).__name__}: {exc}"))
    send.send(message)
    send.close()


@contextmanager
def render_in_background(
    fig: Figure,
    formats: list[str],
    render: Callable[[Figure, str], bytes],
) -> Iterator[Callable[[], dict[str, bytes]]]:
    """Render ``fig`` as each of ``formats`` beside the caller's own work.

    Parameters
    ----------
    fig
        The figure; the caller must not change it inside the ``with`` block.
    formats
        The formats, e.g. ``["svg", "pdf"]`` (none: nothing is started).
    render
        Gives a figure's bytes in one format, e.g. :func:`siting.report.maps.figure_bytes`.

    Yields
    ------
    callable
        Waits for the child and returns ``{format: bytes}``; raises what the
        rendering raised. Leaving the block without calling it stops the child.

    """
    if not formats or not can_fork():

        def here() -> dict[str, bytes]:
            return {fmt: render(fig, fmt) for fmt in formats}

        yield here
        return
    context = multiprocessing.get_context("fork")
    receive, send = context.Pipe(duplex=False)
    child = context.Process(target=_child, args=(render, fig, formats, send, receive), daemon=True)
    child.start()  # flushes stdout/stderr first, so nothing buffered is written twice
    send.close()

    def result() -> dict[str, bytes]:
        try:
            status, value = receive.recv()
        except EOFError:
            child.join()
            raise RuntimeError(
                f"the process drawing the map as {', '.join(formats)} ended without a result "
                f"(exit code {child.exitcode})"
            ) from None
        child.join()
        if status == "error":
            raise value
        return value

    try:
        yield result
    finally:
        receive.close()
        if child.is_alive():
            child.terminate()
        child.join()
