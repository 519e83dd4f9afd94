"""Worker processes forked from this one: numbered tasks, taken by whichever worker is free,
their results handed back in task order.

A fork starts a worker at once with everything this process has imported, and needs nothing
more than pipes: tickets (task numbers) go out on one pipe all workers read, each worker sends
its results back on its own pipe. At most `in_flight` tickets are out beyond the result being
waited for, so what waits to be taken stays bounded however many tasks there are. Linux only
(`fork`). A task that raises makes the whole run fail, as in one process. A worker that dies
(killed, out of memory, a crash in C) takes only its task with it when the caller says how to
answer for a lost task (`on_lost`): each worker says which task it starts, and another is
forked in its place.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import select
import signal
import struct
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TypeVar

from pinbot.errors import PinbotError

__all__ = ["InOrder", "WorkerFailed"]

Result = TypeVar("Result")

_TICKET = struct.Struct("=I")
# A result: its task number (or `_FAILED`) and the length of the pickled value after it; or,
# before a task runs, `_STARTED - number` and no value.
_HEADER = struct.Struct("=iI")
_FAILED = -1
_STARTED = -2
# What a result pipe may hold before its worker waits: results pile up there while this
# process is busy elsewhere (finding links), instead of the worker stopping.
_PIPE_BYTES = 1 << 20


class WorkerFailed(PinbotError):
    """A worker process ended without returning its results (killed, or out of memory)."""


_ENDED = "the worker processes ended before every task was done"


class InOrder(Iterator[Result]):
    """`run(0)`, `run(1)`, … `run(tasks - 1)`, each run in one of `workers` processes forked
    when this is made, yielded in that order. An exception a task raises is raised here. A
    task whose worker died is answered by `on_lost(number, how it ended)`, or, without
    `on_lost`, fails the run with `WorkerFailed`. `close` (or leaving the `with` block) stops
    the workers, whatever they were doing."""

    def __init__(
        self,
        tasks: int,
        run: Callable[[int], Result],
        *,
        workers: int,
        in_flight: int,
        on_lost: Callable[[int, str], Result] | None = None,
    ) -> None:
        self.tasks = tasks
        self.in_flight = in_flight
        self.on_lost = on_lost
        self.expected = 0
        self.issued = 0
        tickets_out, tickets_in = os.pipe()
        self.pool = _Pool(tickets_in, tickets_out, run, replace=on_lost is not None)
        try:
            for _ in range(min(workers, tasks)):
                self.pool.start()
            self._issue()
        except BaseException:
            self.close()
            raise

    def __next__(self) -> Result:
        if self.expected >= self.tasks:
            self.close()
            raise StopIteration
        taken = self.pool.take(self.expected)
        result: Result
        if isinstance(taken, _Lost):
            assert self.on_lost is not None  # without it a lost task raised in `take`
            result = self.on_lost(self.expected, taken.how)
        else:
            result = pickle.loads(taken)
        self.expected += 1
        self._issue()
        return result

    def _issue(self) -> None:
        """Tickets up to `in_flight` past the result waited for; the pipe closed after the last."""
        while self.issued < self.tasks and self.issued <= self.expected + self.in_flight:
            try:
                os.write(self.pool.tickets_in, _TICKET.pack(self.issued))
            except BrokenPipeError:  # no worker left to read it
                raise WorkerFailed(_ENDED) from None
            self.issued += 1
        if self.issued == self.tasks:
            self.pool.close_tickets()

    def close(self) -> None:
        self.pool.stop()

    def __enter__(self) -> InOrder[Result]:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@dataclass(frozen=True)
class _Lost:
    """A task whose worker ended before sending its result, and how the worker ended."""

    how: str


class _Pool:
    """The forked workers, their result pipes, the task each is running, and the results read
    ahead of their turn. With `replace`, a worker that dies is replaced and its task lost."""

    def __init__(
        self, tickets_in: int, tickets_out: int, run: Callable[[int], object], *, replace: bool
    ) -> None:
        self.tickets_in = tickets_in
        self.tickets_out = tickets_out  # kept open here for the workers forked in place of others
        self.run = run
        self.replace = replace
        self.pids: list[int] = []
        self.readers: dict[int, int] = {}  # result pipe -> worker pid
        self.running: dict[int, int] = {}  # result pipe -> the task its worker started last
        self.ahead: dict[int, bytes | _Lost] = {}
        self.parent = os.getpid()

    def start(self) -> None:
        results_out, results_in = os.pipe()
        with contextlib.suppress(AttributeError, OSError):  # a smaller pipe only waits sooner
            import fcntl

            fcntl.fcntl(results_in, fcntl.F_SETPIPE_SZ, _PIPE_BYTES)
        pid = os.fork()
        if pid == 0:  # pragma: no cover - runs in the worker, which leaves with os._exit
            os.close(results_out)
            if self.tickets_in >= 0:
                os.close(self.tickets_in)
            for reader in self.readers:
                os.close(reader)
            _work(self.tickets_out, results_in, self.run)
        os.close(results_in)
        self.pids.append(pid)
        self.readers[results_out] = pid

    def close_tickets(self) -> None:
        if self.tickets_in >= 0:
            os.close(self.tickets_in)  # the workers read the end of the tickets and leave
            self.tickets_in = -1

    def take(self, number: int) -> bytes | _Lost:
        """The pickled result of task `number`, reading what arrives meanwhile."""
        while number not in self.ahead:
            if not self.readers:
                raise WorkerFailed(_ENDED)
            # poll, not select: a descriptor numbered past 1023 is as good as any other.
            waiting = select.poll()
            for reader in self.readers:
                waiting.register(reader, select.POLLIN)
            for reader, _event in waiting.poll():
                self._read_one(reader)
        return self.ahead.pop(number)

    def _read_one(self, reader: int) -> None:
        header = _read_exactly(reader, _HEADER.size)
        if len(header) < _HEADER.size:
            self._ended(reader)
            return
        number, size = _HEADER.unpack(header)
        if number <= _STARTED:
            self.running[reader] = _STARTED - number
            return
        payload = _read_exactly(reader, size)
        if len(payload) < size:  # the worker died while sending it
            self._ended(reader)
            return
        if number == _FAILED:
            raise pickle.loads(payload)
        self.running.pop(reader, None)
        self.ahead[number] = payload

    def _ended(self, reader: int) -> None:
        """A worker's result pipe ended: it left when the tickets ran out, or it died."""
        pid = self.readers.pop(reader)
        task = self.running.pop(reader, None)
        os.close(reader)
        _, status = os.waitpid(pid, 0)
        self.pids.remove(pid)
        if status == 0 and task is None:
            return
        how = _how_it_ended(status)
        if not self.replace or task is None:
            raise WorkerFailed(f"a worker process {how}")
        self.ahead[task] = _Lost(how)
        self.start()  # tickets may be left that no other worker would take

    def stop(self) -> None:
        if os.getpid() != self.parent:  # pragma: no cover - a worker's copy: not its to stop
            return
        self.close_tickets()
        if self.tickets_out >= 0:
            os.close(self.tickets_out)
            self.tickets_out = -1
        for reader in self.readers:
            os.close(reader)
        self.readers.clear()
        for pid in self.pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, 0)
        self.pids.clear()


def _work(
    tickets_out: int, results_in: int, run: Callable[[int], object]
) -> None:  # pragma: no cover - runs in the worker
    """Take tickets until there are none, send each result; leave without this process's
    exit handlers (they belong to the parent)."""
    status = 0
    try:
        while ticket := _read_exactly(tickets_out, _TICKET.size):
            (number,) = _TICKET.unpack(ticket)
            _send(results_in, _STARTED - number, b"")  # so a death here loses this task only
            _send(results_in, number, pickle.dumps(run(number), pickle.HIGHEST_PROTOCOL))
    except KeyboardInterrupt:
        status = 1
    except BaseException as exc:  # handed to the parent, which raises it
        status = 1
        with contextlib.suppress(BaseException):
            _send(results_in, _FAILED, _pickled_error(exc))
    finally:
        os._exit(status)


def _how_it_ended(status: int) -> str:
    """A worker's end as `os.waitpid` reports it, in words."""
    if os.WIFSIGNALED(status):
        return f"was killed by signal {os.WTERMSIG(status)}"
    return f"ended with exit status {os.waitstatus_to_exitcode(status)}"


def _pickled_error(exc: BaseException) -> bytes:
    try:
        return pickle.dumps(exc, pickle.HIGHEST_PROTOCOL)
    except Exception:  # an exception that does not pickle: its text does
        return pickle.dumps(RuntimeError(f"{type(exc).__name__}: {exc}"))


def _send(pipe: int, number: int, payload: bytes) -> None:
    data = memoryview(_HEADER.pack(number, len(payload)) + payload)
    while data:
        data = data[os.write(pipe, data) :]


def _read_exactly(pipe: int, size: int) -> bytes:
    """`size` bytes from the pipe; fewer (nothing) only at its end."""
    parts: list[bytes] = []
    left = size
    while left:
        part = os.read(pipe, left)
        if not part:
            break
        parts.append(part)
        left -= len(part)
    return b"".join(parts)
