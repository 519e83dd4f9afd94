"""A keyed memo for in-flight lookups: one task per question, its outcome shared.

Concurrent callers asking the same question (the same tag, the same digest) share one task
instead of sending the same request twice; later callers get the kept outcome, failures
included, so a run asks each question once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class KeyedMemo(Generic[K, V]):
    """One task per key, shared by every caller; with `keep=False` only while it runs.

    A caller that is cancelled does not cancel the shared task (others may be waiting).

    >>> async def main() -> list[int]:
    ...     memo: KeyedMemo[str, int] = KeyedMemo()
    ...     calls = []
    ...     async def work() -> int:
    ...         calls.append(1)
    ...         return 42
    ...     found = await asyncio.gather(*(memo.get("q", work) for _ in range(3)))
    ...     return found + [len(calls)]
    >>> asyncio.run(main())
    [42, 42, 42, 1]
    """

    def __init__(self, *, keep: bool = True) -> None:
        self._keep = keep
        self._tasks: dict[K, asyncio.Future[V]] = {}

    async def get(self, key: K, start: Callable[[], Awaitable[V]]) -> V:
        """The outcome for `key`, starting `start()` when nobody has asked yet."""
        future = self._tasks.get(key)
        if future is None:
            future = asyncio.ensure_future(start())
            self._tasks[key] = future
            if not self._keep:
                future.add_done_callback(lambda _: self._forget(key, future))
        return await asyncio.shield(future)

    def put(self, key: K, value: V) -> None:
        """Keep `value` as the outcome for `key`, unless the key has one already."""
        if key not in self._tasks:
            done: asyncio.Future[V] = asyncio.get_running_loop().create_future()
            done.set_result(value)
            self._tasks[key] = done

    def cancel_all(self) -> None:
        """Cancel every task still running (the client is closing)."""
        for future in self._tasks.values():
            if not future.done():
                future.cancel()

    def _forget(self, key: K, future: asyncio.Future[V]) -> None:
        if self._tasks.get(key) is future:
            del self._tasks[key]
        if not future.cancelled():
            future.exception()  # retrieved: the callers that awaited it got it

    def __contains__(self, key: object) -> bool:
        return key in self._tasks

    def __len__(self) -> int:
        return len(self._tasks)

    def __repr__(self) -> str:
        return f"<KeyedMemo {len(self._tasks)} keys>"
