"""When to try a registry request again, and how long to wait first.

Pure helpers: status codes worth retrying, `Retry-After` parsing, the backoff schedule.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

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


def backoff_delay(
    attempt: int, *, initial: float, maximum: float, rng: random.Random | None = None
) -> float:
    """Exponential backoff for a 1-based attempt number, jittered to half..full of the step.

    Jitter keeps many clients that failed together from retrying together.

    >>> backoff_delay(1, initial=1.0, maximum=10.0, rng=random.Random(0)) <= 1.0
    True
    """
    ceiling = min(maximum, initial * 2.0 ** max(0, attempt - 1))
    pick: float = (rng or random).uniform(0.5, 1.0)
    return ceiling * pick
