"""When to try a registry request again, and how long to wait first.

Statuses worth retrying, `Retry-After` parsing, and the retry policy: tenacity's jittered
exponential wait, or as long as the registry asks, within a number of attempts, a total
wait and the lookup's budget.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception,
    wait_exponential,
    wait_random_exponential,
)
from tenacity.wait import wait_base

from pinbot.errors import PinbotError
from pinbot.registry.budget import current_budget
from pinbot.registry.quota import QuotaReading

#: Statuses that mean "not now" rather than "no": rate limits and gateway trouble.
RETRY_STATUSES = frozenset({429, 502, 503, 504})


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait according to a `Retry-After` header, or None when absent or unreadable.

    The header is either a number of seconds or an HTTP date; dates in the past mean 0.

    >>> parse_retry_after("7")
    7.0
    >>> parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=datetime(2015, 10, 21, 7, 27, 30, tzinfo=UTC))
    30.0
    """
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    if text.isdigit():
        return float(int(text))
    try:
        seconds = float(text)
    except ValueError:
        pass
    else:
        # Not allowed by RFC 9110, but some servers send "1.5"; a negative is nonsense.
        return seconds if seconds >= 0 else None
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    current = now if now is not None else datetime.now(UTC)
    return max(0.0, (when - current).total_seconds())


def jittered_backoff(*, initial: float, maximum: float) -> wait_base:
    """Exponential backoff jittered to half..full of each step ("equal jitter").

    Half of the step is fixed, the other half random: many clients that failed together do
    not retry together, and none retries sooner than half the step.
    """
    half_initial, half_maximum = initial / 2, maximum / 2
    fixed = wait_exponential(multiplier=half_initial, max=half_maximum)
    random_part = wait_random_exponential(multiplier=half_initial, max=half_maximum)
    return fixed + random_part


class Transient(PinbotError):
    """A response or failure worth retrying; carries what to say if retries run out."""

    def __init__(
        self,
        detail: str,
        *,
        status: int | None = None,
        retry_after: float | None = None,
        quota: QuotaReading | None = None,
        final: bool = False,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.status = status
        self.retry_after = retry_after
        self.quota = quota
        #: Not worth retrying after all: a pull quota used up with no word on when it resets.
        self.final = final


def _worth_retrying(exc: BaseException) -> bool:
    return isinstance(exc, Transient) and not exc.final


class RetryPolicy:
    """How often and how long a request is tried again: attempts, total wait, backoff."""

    def __init__(
        self, *, max_attempts: int, max_wait: float, backoff: float, max_backoff: float
    ) -> None:
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self.max_attempts = max_attempts
        self.max_wait = max_wait
        self._backoff = jittered_backoff(initial=backoff, maximum=max_backoff)

    def retrying(self) -> AsyncRetrying:
        """A fresh tenacity loop that retries `Transient` failures, re-raising the last one."""
        return AsyncRetrying(
            stop=self._stop,
            wait=self._wait,
            sleep=self._sleep,
            retry=retry_if_exception(_worth_retrying),
            reraise=True,
        )

    def describe(self) -> str:
        return f"at most {self.max_attempts} attempts / {self.max_wait:g} s"

    def _wait(self, state: RetryCallState) -> float:
        failure = state.outcome.exception() if state.outcome is not None else None
        if isinstance(failure, Transient) and failure.retry_after is not None:
            return failure.retry_after
        return float(self._backoff(state))

    def _stop(self, state: RetryCallState) -> bool:
        if state.attempt_number >= self.max_attempts:
            return True
        # Stop rather than start a wait that would end beyond the budget.
        elapsed = state.seconds_since_start or 0.0
        if elapsed + state.upcoming_sleep > self.max_wait:
            return True
        budget = current_budget()
        return budget is not None and state.upcoming_sleep >= budget.remaining()

    @staticmethod
    async def _sleep(seconds: float) -> None:
        budget = current_budget()
        if budget is not None:
            budget.charge(seconds)
        await asyncio.sleep(seconds)
