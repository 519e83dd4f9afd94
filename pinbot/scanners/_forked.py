"""Worker processes forked from this one: numbered tasks, taken by whichever worker is free,
their results handed back in task order.

A fork starts a worker at once with everything this process has imported, and needs nothing
more than pipes: tickets (task numbers) go out on one pipe all workers read, each worker sends
its results back on its own pipe. At most `in_flight` tickets are out beyond the result being
waited for, so what waits to be taken stays bounded however many tasks there are. Linux only
(`fork`); a worker that fails makes the whole run fail, as one process would.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import select
import signal
import struct
from collections.abc import Callable, Iterator
from typing import TypeVar

from pinbot.errors import PinbotError

__all__ = ["InOrder", "WorkerFailed"]

Result = TypeVar("Result")

_TICKET = struct.Struct("=I")
# A result: its task number (or `_FAILED`) and the length of the pickled value after it.
_HEADER = struct.Struct("=iI")
_FAILED = -1
# What a result pipe may hold before its worker waits: results pile up there while this
# process is busy elsewhere (finding links), instead of the worker stopping.
_PIPE_BYTES = 1 << 20


class WorkerFailed(PinbotError):
    """A worker process ended without returning its results (killed, or out of memory)."""


_ENDED = "the worker processes ended before every task was done"


class InOrder(Iterator[Result]):
    """`run(0)`, `run(1)`, … `run(tasks - 1)`, each run in one of `workers` processes forked
    when this is made, yielded in that order. An exception a task raises is raised here;
    `close` (or leaving the `with` block) stops the workers, whatever they were doing."""

    def __init__(
        self, tasks: int, run: Callable[[int], Result], *, workers: int, in_flight: int
    ) -> None:
        self.tasks = tasks
        self.in_flight = in_flight
        self.expected = 0
        self.issued = 0
        tickets_out, tickets_in = os.pipe()
        self.pool = _Pool(tickets_in)
        try:
            for _ in range(min(workers, tasks)):
                self.pool.start(tickets_out, run)
            self._issue()
        except BaseException:
            self.close()
            raise
        finally:
            os.close(tickets_out)

    def __next__(self) -> Result:
        if self.expected >= self.tasks:
            self.close()
            raise StopIteration
        result: Result = pickle.loads(self.pool.take(self.expected))
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


class _Pool:
    """The forked workers, their result pipes, and the results read ahead of their turn."""

    def __init__(self, tickets_in: int) -> None:
        self.tickets_in = tickets_in
        self.pids: list[int] = []
        self.readers: dict[int, int] = {}  # result pipe -> worker pid
        self.ahead: dict[int, bytes] = {}
        self.parent = os.getpid()

    def start(self, tickets_out: int, run: Callable[[int], object]) -> None:
        results_out, results_in = os.pipe()
        with contextlib.suppress(AttributeError, OSError):  # a smaller pipe only waits sooner
            import fcntl

            fcntl.fcntl(results_in, fcntl.F_SETPIPE_SZ, _PIPE_BYTES)
        pid = os.fork()
        if pid == 0:  # pragma: no cover - runs in the worker, which leaves with os._exit
            os.close(results_out)
            os.close(self.tickets_in)
            for reader in self.readers:
                os.close(reader)
            _work(tickets_out, results_in, run)
        os.close(results_in)
        self.pids.append(pid)
        self.readers[results_out] = pid

    def close_tickets(self) -> None:
        if self.tickets_in >= 0:
            os.close(self.tickets_in)  # the workers read the end of the tickets and leave
            self.tickets_in = -1

    def take(self, number: int) -> bytes:
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
        if not header:
            pid = self.readers.pop(reader)
            os.close(reader)
            _, status = os.waitpid(pid, 0)
            self.pids.remove(pid)
            if status != 0:
                raise WorkerFailed(f"a worker process ended with status {status}")
            return
        number, size = _HEADER.unpack(header)
        payload = _read_exactly(reader, size)
        if number == _FAILED:
            raise pickle.loads(payload)
        self.ahead[number] = payload

    def stop(self) -> None:
        if os.getpid() != self.parent:  # pragma: no cover - a worker's copy: not its to stop
            return
        self.close_tickets()
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
            _send(results_in, number, pickle.dumps(run(number), pickle.HIGHEST_PROTOCOL))
    except KeyboardInterrupt:
        status = 1
    except BaseException as exc:  # handed to the parent, which raises it
        status = 1
        with contextlib.suppress(BaseException):
            _send(results_in, _FAILED, _pickled_error(exc))
    finally:
        os._exit(status)


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
