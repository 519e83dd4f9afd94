"""Forked workers: results in task order, a failing task's error raised, a dead worker seen,
and no worker left behind however the caller stops."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

from pinbot.errors import PinbotError
from pinbot.scanners._forked import InOrder, WorkerFailed

pytestmark = [
    pytest.mark.skipif(not hasattr(os, "fork"), reason="workers are forked"),
    pytest.mark.slow,  # starts processes
]


def _children() -> set[int]:
    """Child processes of this one, zombies (a worker no one waited for) included."""
    me = os.getpid()
    found = set()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == me:
            found.add(int(entry))
    return found


def _slow_square(number: int) -> tuple[int, int]:
    # Early tasks take longest: later ones finish first and wait for their turn.
    time.sleep(0.002 * (20 - number % 20))
    return number, number * number


def test_results_come_in_task_order_from_every_worker() -> None:
    before = _children()
    with InOrder(300, _slow_square, workers=3, in_flight=7) as done:
        results = list(done)
    assert results == [(n, n * n) for n in range(300)]
    assert _children() == before


def test_large_results_pass_through_the_pipes_whole() -> None:
    def big(number: int) -> bytes:
        return bytes([number]) * (3 << 20)

    with InOrder(4, big, workers=2, in_flight=1) as done:
        assert [len(r) for r in done] == [3 << 20] * 4


def test_a_task_that_raises_raises_its_error_here() -> None:
    def failing(number: int) -> int:
        if number == 5:
            raise ValueError(f"task {number} failed")
        return number

    before = _children()
    with pytest.raises(ValueError, match="task 5 failed"), InOrder(
        20, failing, workers=2, in_flight=4
    ) as done:
        list(done)
    assert _children() == before


def test_an_error_that_does_not_pickle_still_reaches_here() -> None:
    class Local(Exception):  # defined in a function: pickle cannot find it by name
        pass

    def failing(number: int) -> int:
        raise Local("cannot be pickled")

    with pytest.raises(RuntimeError, match="Local: cannot be pickled"), InOrder(
        3, failing, workers=2, in_flight=2
    ) as done:
        list(done)


def test_a_killed_worker_fails_the_run_instead_of_hanging() -> None:
    def dying(number: int) -> int:
        if number == 3:
            os.kill(os.getpid(), signal.SIGKILL)
        time.sleep(0.01)
        return number

    before = _children()
    with pytest.raises(WorkerFailed) as raised, InOrder(
        50, dying, workers=2, in_flight=4
    ) as done:
        list(done)
    assert isinstance(raised.value, PinbotError)
    assert _children() == before


def test_stopping_early_stops_every_worker() -> None:
    before = _children()
    done = InOrder(10_000, _slow_square, workers=2, in_flight=16)
    assert next(done) == (0, 0)
    assert len(_children() - before) == 2
    done.close()
    assert _children() == before


def test_workers_run_at_most_in_flight_tasks_past_the_one_waited_for(tmp_path: Path) -> None:
    started = tmp_path / "started"

    def noted(number: int) -> int:
        with started.open("a") as note:
            note.write(f"{number}\n")
        return number

    with InOrder(100, noted, workers=2, in_flight=5) as done:
        time.sleep(0.5)  # nothing taken yet: the workers get tickets 0 to 5 and no more
        assert sorted(map(int, started.read_text().split())) == list(range(6))
        assert list(done) == list(range(100))
    assert sorted(map(int, started.read_text().split())) == list(range(100))


def test_no_tasks_start_no_workers() -> None:
    before = _children()
    with InOrder(0, _slow_square, workers=2, in_flight=4) as done:
        assert list(done) == []
    assert _children() == before


def test_a_task_whose_worker_dies_is_answered_by_on_lost_and_the_rest_go_on() -> None:
    def dying(number: int) -> int:
        if number in (3, 17):
            os.kill(os.getpid(), signal.SIGKILL)
        time.sleep(0.002)
        return number

    lost: list[tuple[int, str]] = []

    def on_lost(number: int, how: str) -> int:
        lost.append((number, how))
        return -number

    before = _children()
    with InOrder(40, dying, workers=2, in_flight=4, on_lost=on_lost) as done:
        results = list(done)
    assert results == [-n if n in (3, 17) else n for n in range(40)]
    assert lost == [(3, "was killed by signal 9"), (17, "was killed by signal 9")]
    assert _children() == before


def test_tasks_are_answered_even_when_every_worker_dies() -> None:
    def always(number: int) -> int:
        os._exit(3)

    before = _children()
    with InOrder(6, always, workers=2, in_flight=2, on_lost=lambda n, how: (n, how)) as done:
        assert list(done) == [(n, "ended with exit status 3") for n in range(6)]
    assert _children() == before
