"""Known vulnerabilities fixed and introduced by a digest bump, from the OSV API.

`OsvClient.delta(diff)` asks `POST /v1/querybatch` about the package versions a bump removes
or adds (only those: an unchanged package changes nothing) and returns the vulnerability ids
that were in the old versions and are in none of the new ones (fixed), and the reverse
(introduced). Answers are cached per package version for the run; the whole question has a
deadline, and what OSV does not answer is a note saying so, never a failed pull request.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any

import httpx

from pinbot.errors import PinbotError
from pinbot.supplychain.sbom import PackageDiff

DEFAULT_URL = "https://api.osv.dev"
#: OSV takes at most 1000 queries in one batch.
MAX_BATCH = 1000
#: Package versions asked about for one bump at most; a bigger diff is asked in part.
MAX_QUERIES = 5000
#: A querybatch answer holds ids and dates only; anything bigger is not one.
MAX_ANSWER_BYTES = 8 * 1024 * 1024
#: Seconds for everything one bump's question costs (batches, retries none).
DEADLINE = 10.0
_VULN_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$")

#: One question: (ecosystem, package name, version).
Query = tuple[str, str, str]


class OsvError(PinbotError):
    """OSV did not answer, or answered something that is not a querybatch answer."""


@dataclass(frozen=True)
class VulnerabilityDelta:
    """What a bump does to the known vulnerabilities of its changed packages."""

    fixed: tuple[str, ...] = ()
    introduced: tuple[str, ...] = ()
    asked: int = 0  # package versions asked about
    unknown: int = 0  # changed packages OSV cannot be asked about (no ecosystem known)
    error: str | None = None  # why the answer is missing; then nothing else is known


def queries_for(diff: PackageDiff) -> tuple[list[Query], list[Query], int]:
    """The old and the new package versions of a diff OSV can be asked about, and how many
    changes it cannot be (an OS package whose release the SBOM does not name)."""
    old: list[Query] = []
    new: list[Query] = []
    unknown = 0
    for change in diff.changes:
        if change.osv is None:
            unknown += 1
            continue
        ecosystem, name = change.osv
        if change.old is not None:
            old.append((ecosystem, name, change.old))
        if change.new is not None:
            new.append((ecosystem, name, change.new))
    return old, new, unknown


def _ids(answer: Any, count: int) -> list[frozenset[str]]:
    """The vulnerability ids per query of a querybatch answer; `OsvError` when it is not one."""
    results = answer.get("results") if isinstance(answer, dict) else None
    if not isinstance(results, list) or len(results) != count:
        raise OsvError("the answer does not hold one result per query")
    out = []
    for result in results:
        vulns = result.get("vulns", []) if isinstance(result, dict) else None
        if not isinstance(vulns, list):
            raise OsvError("a result's vulns is not a list")
        ids = {v.get("id") for v in vulns if isinstance(v, dict)}
        out.append(frozenset(i for i in ids if isinstance(i, str) and _VULN_ID.match(i)))
    return out


class OsvClient:
    """The OSV API over HTTP, answers kept per package version for the run."""

    def __init__(
        self,
        url: str = DEFAULT_URL,
        *,
        deadline: float = DEADLINE,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.url = url.rstrip("/") + "/v1/querybatch"
        self.deadline = deadline
        self.requests = 0
        self._known: dict[Query, frozenset[str]] = {}
        # After OSV failed once, the run's other bumps do not wait for it again.
        self._failed: str | None = None
        self._http = httpx.AsyncClient(
            timeout=httpx.Timeout(deadline),
            transport=transport,
            follow_redirects=False,
            headers={"Accept-Encoding": "identity"},
            trust_env=False,
        )

    async def __aenter__(self) -> OsvClient:
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        await self._http.aclose()

    async def _batch(self, queries: Sequence[Query]) -> list[frozenset[str]]:
        body = {
            "queries": [
                {"package": {"ecosystem": ecosystem, "name": name}, "version": version}
                for ecosystem, name, version in queries
            ]
        }
        self.requests += 1
        async with self._http.stream("POST", self.url, json=body) as response:
            if response.status_code != 200:
                raise OsvError(f"HTTP {response.status_code}")
            data = bytearray()
            async for chunk in response.aiter_raw():
                data += chunk
                if len(data) > MAX_ANSWER_BYTES:
                    raise OsvError("the answer is larger than a querybatch answer may be")
        try:
            answer = json.loads(bytes(data))
        except (ValueError, RecursionError) as exc:
            raise OsvError("the answer is not JSON") from exc
        return _ids(answer, len(queries))

    async def known(self, queries: Iterable[Query]) -> dict[Query, frozenset[str]]:
        """The vulnerability ids of each package version, asked once each for the run."""
        wanted = list(dict.fromkeys(q for q in queries if q not in self._known))
        for start in range(0, len(wanted), MAX_BATCH):
            part = wanted[start : start + MAX_BATCH]
            self._known.update(zip(part, await self._batch(part), strict=True))
        return {q: self._known[q] for q in queries}

    async def delta(self, diff: PackageDiff) -> VulnerabilityDelta:
        """The vulnerabilities `diff` fixes and introduces; never raises."""
        old, new, unknown = queries_for(diff)
        if len(old) + len(new) > MAX_QUERIES:
            old, new = old[: MAX_QUERIES // 2], new[: MAX_QUERIES // 2]
        if not (old or new):
            return VulnerabilityDelta(unknown=unknown)
        if self._failed is not None and any(q not in self._known for q in [*old, *new]):
            return VulnerabilityDelta(unknown=unknown, error=f"{self._failed}, earlier in this run")
        try:
            async with asyncio.timeout(self.deadline):
                answers = await self.known([*old, *new])
        except TimeoutError:
            self._failed = f"no answer in {self.deadline:g} s"
            return VulnerabilityDelta(unknown=unknown, error=self._failed)
        except (OsvError, httpx.HTTPError) as exc:
            self._failed = _reason(exc)
            return VulnerabilityDelta(unknown=unknown, error=self._failed)
        before = frozenset().union(*(answers[q] for q in old))
        after = frozenset().union(*(answers[q] for q in new))
        return VulnerabilityDelta(
            fixed=tuple(sorted(before - after)),
            introduced=tuple(sorted(after - before)),
            asked=len(old) + len(new),
            unknown=unknown,
        )


def _reason(exc: Exception) -> str:
    if isinstance(exc, OsvError):
        return str(exc)
    return type(exc).__name__  # a transport error's text may carry the whole URL
