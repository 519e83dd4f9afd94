"""Pull quotas that registries announce in `RateLimit-*` headers, read and put into words.

Docker Hub counts every manifest GET as a pull and reports the quota on manifest answers
(``ratelimit-remaining: 76;w=21600``); other registries send the same headers or `X-` ones.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

#: A reset value above this is a Unix time, not a number of seconds (GitHub's `X-` headers).
_EPOCH_THRESHOLD = 1_000_000_000


@dataclass(frozen=True)
class QuotaReading:
    """What one answer said about the quota: pulls left, of how many, in which window."""

    remaining: int
    limit: int | None = None
    #: Length of the quota window in seconds (the `w=` parameter).
    window: int | None = None
    #: Seconds until the window resets, when the registry says.
    reset: float | None = None

    def __str__(self) -> str:
        """
        >>> str(QuotaReading(76, 100, 21600))
        '76 of 100 pulls left in the 21600 s window'
        >>> str(QuotaReading(0, 100, 21600, reset=90))
        '0 of 100 pulls left in the 21600 s window, which resets in 90 s'
        >>> str(QuotaReading(3))
        '3 pulls left'
        """
        text = f"{self.remaining} pulls left"
        if self.limit is not None:
            text = f"{self.remaining} of {self.limit} pulls left"
        if self.window is not None:
            text += f" in the {self.window} s window"
        if self.reset is not None:
            text += ", which resets" if self.window is not None else ", resetting"
            text += f" in {self.reset:.0f} s"
        return text


def _policy(value: str | None) -> tuple[int | None, int | None]:
    """(number, window) of a header like ``100;w=21600`` or ``100, 100;w=21600``.

    The first item is the current value; the window comes from the first item that has one.
    """
    if value is None:
        return None, None
    number: int | None = None
    window: int | None = None
    for position, item in enumerate(value.split(",")):
        head, *params = (part.strip() for part in item.split(";"))
        if position == 0 and head.isdigit():
            number = int(head)
        for param in params:
            name, _, text = param.partition("=")
            if window is None and name.strip().lower() == "w" and text.strip().isdigit():
                window = int(text.strip())
    return number, window


def _reset(value: str | None, now: float) -> float | None:
    if value is None:
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        return None
    if seconds < 0:
        return None
    if seconds > _EPOCH_THRESHOLD:
        return max(0.0, seconds - now)
    return seconds


def parse_quota(
    headers: Mapping[str, str], *, clock: Callable[[], float] = time.time
) -> QuotaReading | None:
    """The quota an answer's headers report, or None when they report none.

    `headers` is looked up by lower-case name (httpx headers are case-insensitive already).

    >>> parse_quota({"ratelimit-limit": "100;w=21600", "ratelimit-remaining": "76;w=21600"})
    QuotaReading(remaining=76, limit=100, window=21600, reset=None)
    >>> parse_quota({"x-ratelimit-limit": "5000", "x-ratelimit-remaining": "4999",
    ...              "x-ratelimit-reset": "1700000060"}, clock=lambda: 1700000000.0)
    QuotaReading(remaining=4999, limit=5000, window=None, reset=60.0)
    >>> parse_quota({"content-type": "application/json"}) is None
    True
    """
    for prefix in ("ratelimit-", "x-ratelimit-"):
        remaining, remaining_window = _policy(headers.get(prefix + "remaining"))
        if remaining is None:
            continue
        limit, limit_window = _policy(headers.get(prefix + "limit"))
        return QuotaReading(
            remaining=remaining,
            limit=limit,
            window=remaining_window if remaining_window is not None else limit_window,
            reset=_reset(headers.get(prefix + "reset"), clock()),
        )
    return None


@dataclass
class PullQuota:
    """The quota one registry host reported during a run: the lowest remaining seen."""

    #: The host that answered (``registry-1.docker.io`` for Docker Hub).
    endpoint: str
    lowest: QuotaReading

    def observe(self, reading: QuotaReading) -> None:
        """Keep the reading with the fewest pulls left; fill in what it does not say."""
        if reading.remaining < self.lowest.remaining:
            self.lowest = QuotaReading(
                reading.remaining,
                reading.limit if reading.limit is not None else self.lowest.limit,
                reading.window if reading.window is not None else self.lowest.window,
                reading.reset,
            )
        elif self.lowest.limit is None or self.lowest.window is None:
            self.lowest = QuotaReading(
                self.lowest.remaining,
                self.lowest.limit if self.lowest.limit is not None else reading.limit,
                self.lowest.window if self.lowest.window is not None else reading.window,
                self.lowest.reset,
            )

    def describe(self, manifest_gets: int) -> str:
        """One line for a run summary.

        >>> PullQuota("registry-1.docker.io", QuotaReading(76, 100, 21600)).describe(3)
        'registry-1.docker.io: 76 of 100 pulls left in the 21600 s window; this run made 3 manifest GETs'
        """
        plural = "" if manifest_gets == 1 else "s"
        return f"{self.endpoint}: {self.lowest}; this run made {manifest_gets} manifest GET{plural}"
