"""The time one lookup may spend on a registry, carried along by the tasks it starts.

A lookup (resolve, fetch, verify, exists, metadata) gets a budget of registry time: its
answers, bodies and retry waits are charged to it, while time queued behind other lookups of
the same registry is not, so a large run is never failed by its own queue. The budget rides
in a context variable, and asyncio copies the context into every task a lookup starts, so
memoised requests, pings and token fetches spend from the budget of the lookup that began them.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator


class LookupBudget:
    """Seconds of registry time a lookup may spend, and how many it has spent."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.spent = 0.0

    def remaining(self) -> float:
        return self.seconds - self.spent

    def charge(self, seconds: float) -> None:
        self.spent += max(0.0, seconds)

    def __repr__(self) -> str:
        return f"<LookupBudget {self.spent:.1f} of {self.seconds:g} s spent>"


_current: contextvars.ContextVar[LookupBudget | None] = contextvars.ContextVar(
    "pinbot_lookup_budget", default=None
)


def current_budget() -> LookupBudget | None:
    """The budget of the lookup running in this task, if any."""
    return _current.get()


@contextlib.contextmanager
def lookup_budget(seconds: float) -> Iterator[LookupBudget]:
    """Run a lookup within a budget of `seconds`, unless it is part of a lookup already."""
    running = _current.get()
    if running is not None:
        yield running
        return
    budget = LookupBudget(seconds)
    token = _current.set(budget)
    try:
        yield budget
    finally:
        _current.reset(token)
