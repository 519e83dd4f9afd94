"""What a run asked of each registry: requests by kind, and the pull quotas answers reported."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from pinbot.registry.quota import PullQuota, QuotaReading


@dataclass
class RequestStats:
    """Requests sent, per (registry host, kind); kinds are `ping`, `manifest_head`,
    `manifest_get`, `token`, `blob`. Retries count as requests.

    `quotas` holds, per registry, the pull quota its answers reported (the lowest remaining
    seen). Docker Hub counts manifest GETs as pulls, HEADs not.
    """

    counts: Counter[tuple[str, str]] = field(default_factory=Counter)
    quotas: dict[str, PullQuota] = field(default_factory=dict)

    def add(self, host: str, kind: str) -> None:
        self.counts[(host, kind)] += 1

    def observe_quota(self, host: str, endpoint: str, reading: QuotaReading) -> None:
        quota = self.quotas.get(host)
        if quota is None:
            self.quotas[host] = PullQuota(endpoint, reading)
        else:
            quota.observe(reading)

    def quota_report(self) -> list[str]:
        """One line per registry that reported a quota, with the manifest GETs of this run."""
        return [
            self.quotas[host].describe(self.count("manifest_get", host=host))
            for host in sorted(self.quotas)
        ]

    def count(self, kind: str | None = None, host: str | None = None) -> int:
        return sum(
            n
            for (h, k), n in self.counts.items()
            if (kind is None or k == kind) and (host is None or h == host)
        )

    @property
    def manifest_requests(self) -> int:
        return self.count("manifest_head") + self.count("manifest_get")

    def __str__(self) -> str:
        parts = [f"{host} {kind}={n}" for (host, kind), n in sorted(self.counts.items())]
        return ", ".join(parts) or "no requests"
