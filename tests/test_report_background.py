"""The map's vector formats drawn by a forked child: results, failures and clean-up."""

from __future__ import annotations

import os
import time

import matplotlib.pyplot as plt
import pytest

from siting.report import background
from siting.report.background import can_fork, render_in_background
from siting.report.maps import figure_bytes

needs_fork = pytest.mark.skipif(not can_fork(), reason="no fork, or one core")


@pytest.fixture
def fig():
    figure, ax = plt.subplots(figsize=(2, 2))
    ax.plot([0, 1], [1, 0])
    yield figure
    plt.close(figure)


def pid(fig, fmt):
    return f"{fmt}:{os.getpid()}".encode()


@needs_fork
def test_formats_are_drawn_in_another_process_and_equal_the_caller_s(fig):
    with render_in_background(fig, ["svg", "pdf"], pid) as result:
        drawn = result()
    assert set(drawn) == {"svg", "pdf"}
    assert all(not value.endswith(f":{os.getpid()}".encode()) for value in drawn.values())
    with (
        plt.rc_context({"svg.hashsalt": "fixed"}),  # ids from the salt, not at random
        render_in_background(fig, ["svg"], figure_bytes) as result,
    ):
        svg = result()["svg"]
    with plt.rc_context({"svg.hashsalt": "fixed"}):
        here = figure_bytes(fig, "svg")
    strip = lambda text: [line for line in text.splitlines() if b"<dc:date>" not in line]  # noqa: E731
    assert strip(svg) == strip(here) and svg.startswith(b"<?xml")


def test_without_fork_the_caller_draws(fig, monkeypatch):
    monkeypatch.setattr(background, "can_fork", lambda: False)
    with render_in_background(fig, ["svg"], pid) as result:
        assert result() == {"svg": f"svg:{os.getpid()}".encode()}


def raise_value_error(fig, fmt):
    raise ValueError(f"no font for {fmt}")


class UnpicklableError(Exception):
    def __reduce__(self):
        raise TypeError("not picklable")


def raise_unpicklable(fig, fmt):
    raise UnpicklableError("a lock inside")


def die(fig, fmt):
    os._exit(3)


@needs_fork
@pytest.mark.parametrize(
    "render, error, message",
    [
        (raise_value_error, ValueError, "no font for svg"),
        (raise_unpicklable, RuntimeError, "UnpicklableError: a lock inside"),
        (die, RuntimeError, r"ended without a result \(exit code 3\)"),
    ],
)
def test_a_failure_in_the_child_is_raised_in_the_caller(fig, render, error, message):
    with render_in_background(fig, ["svg"], render) as result, pytest.raises(error, match=message):
        result()


def slow(fig, fmt):
    time.sleep(60)
    return b""


@needs_fork
def test_leaving_early_stops_the_child(fig):
    started = time.perf_counter()
    with pytest.raises(KeyError), render_in_background(fig, ["svg"], slow):
        raise KeyError("the workbook failed")
    assert time.perf_counter() - started < 10
    import multiprocessing

    assert multiprocessing.active_children() == []
