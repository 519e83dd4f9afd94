"""A whole bot run over GitHub repositories: read each, look every tag up once, reconcile each.

Every chosen repository is read first (under its own settings file, when it has one); the
registries are asked once per unique tag for the whole run; then each repository's pull
requests are reconciled. One registry client serves the lookups and the notes on one event
loop (`asyncio.Runner`). A repository that fails is reported with its reason and the rest
go on.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Coroutine, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, Protocol, TypeVar

from github.Repository import Repository

from pinbot.bot.execute import utc_now
from pinbot.bot.reconcile import Reconciler
from pinbot.bot.repository import ScannedRepository, lookup_pin, read_repository
from pinbot.bot.result import RepositoryResult, failure_reason
from pinbot.config import Config
from pinbot.errors import Problem
from pinbot.forge.cache import ResponseCache
from pinbot.forge.github import (
    ApiCalls,
    Credentials,
    GitHubForge,
    Pacing,
    RepositorySelection,
    connect,
)
from pinbot.notes import describe
from pinbot.pipeline import Settling, look_up, min_age_in_force
from pinbot.plan import Edit, Lookup
from pinbot.registry import ImageMetadata, RegistryClient, RegistryError
from pinbot.report import escape
from pinbot.scanners import Occurrence
from pinbot.settle_store import SettleMemory, StateFileError, state_path
from pinbot.supplychain.osv import OsvClient
from pinbot.supplychain.reader import SupplyChainReader
from pinbot.supplychain.review import Reviewer
from pinbot.supplychain.stage import Screened, TrustGate, trust_policies

T = TypeVar("T")


class RunObserver(Protocol):
    """Told how a run gets on, as it goes (a progress display, a log)."""

    def started(self, repositories: int) -> None:
        """The repositories to work on are known."""

    def stage(self, text: str) -> None:
        """A step that is not one repository (`looking up 40 tags`)."""

    def finished(self, result: RepositoryResult, calls: int) -> None:
        """One repository is done (or failed); `calls` counted against the rate limit."""


class _Unobserved:
    def started(self, repositories: int) -> None:
        pass

    def stage(self, text: str) -> None:
        pass

    def finished(self, result: RepositoryResult, calls: int) -> None:
        pass


@dataclass(frozen=True)
class RunOptions:
    """How a run goes: which repositories, whether it writes, where GitHub answers are kept."""

    selection: RepositorySelection
    dry_run: bool = False
    cache_dir: Path | None = None
    #: The settle memory for `min-age`; None: `settle-state.json` in `cache_dir`, else the default.
    state_file: Path | None = None
    pacing: Pacing = field(default_factory=Pacing)


@dataclass
class RunSummary:
    """What a run did: one result per repository, and what it cost."""

    results: list[RepositoryResult] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)  # left out by the --org filter
    calls: ApiCalls = field(default_factory=ApiCalls)
    registry_requests: int = 0
    registry_quota: list[str] = field(default_factory=list)
    unique_tags: int = 0
    seconds: float = 0.0
    #: What the run itself could not do well (its settle memory unreadable or not kept).
    warnings: list[str] = field(default_factory=list)

    @property
    def failures(self) -> list[RepositoryResult]:
        return [r for r in self.results if r.failure is not None]

    @property
    def left_alone(self) -> list[RepositoryResult]:
        """Repositories whose own settings say `enabled: false`."""
        return [r for r in self.results if r.skipped is not None]

    def count(self, what: str) -> int:
        return sum(len(getattr(r, what)) for r in self.results)

    @property
    def unchecked(self) -> list[Problem]:
        """What the run could not check in the repositories it handled: lookups that failed,
        files it could not read, edits that failed their check."""
        return [p for r in self.results if r.failure is None for p in r.unchecked]


class RegistrySession:
    """One registry client on one event loop for the whole run (lookups, then notes)."""

    def __init__(self, config: Config) -> None:
        # The keys first: a `verify:` key that is not one stops the run before anything opens.
        self.policies = trust_policies(config.verify)
        self._runner = asyncio.Runner()
        self.client = RegistryClient(config)
        self.supply_chain = SupplyChainReader(self.client)
        self.gate = TrustGate(self.supply_chain, self.policies)
        # Made on the runner's loop (in `__enter__`): its connections belong to that loop.
        self.osv: OsvClient | None = None
        self._osv_url = config.notes.osv_url if config.notes.vulnerabilities == "osv" else None

    def __enter__(self) -> RegistrySession:
        if self._osv_url is not None:
            self.osv = OsvClient(self._osv_url)
        self.run(self.client.__aenter__())
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        try:
            self.run(self.client.__aexit__(kind, error, trace))
            if self.osv is not None:
                self.run(self.osv.__aexit__(kind, error, trace))
        finally:
            self._runner.close()

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return self._runner.run(coroutine)

    def screen(self, edits: Sequence[Edit]) -> Screened:
        """The trust gate over a repository's edits (each digest read once for the run)."""
        return self.run(self.gate.screen(edits))

    def notes(self, edits: Sequence[Edit]) -> list[str]:
        """One `describe` block per image tag and digest change, from registry metadata."""
        return self.run(self._notes(edits))

    async def _metadata(self, edit: Edit, digest: str | None) -> ImageMetadata | None:
        if digest is None or edit.occurrence.reference is None:
            return None
        try:
            return await self.client.fetch_metadata(
                edit.occurrence.reference.without_digest(), digest
            )
        except RegistryError:
            return None

    async def _notes(self, edits: Sequence[Edit]) -> list[str]:
        seen: dict[tuple[str, str | None, str | None, str], Edit] = {}
        for edit in edits:
            assert edit.occurrence.reference is not None
            key = (edit.occurrence.reference.name, edit.tag, edit.old_digest, edit.new_digest)
            seen.setdefault(key, edit)
        reviewer = Reviewer(self.supply_chain, self.policies, self.osv)
        blocks = []
        for edit in sorted(seen.values(), key=lambda e: (e.image, e.tag or "")):
            old = await self._metadata(edit, edit.old_digest)
            new = await self._metadata(edit, edit.new_digest)
            assert edit.occurrence.reference is not None
            extra = [
                *map(escape.text, edit.notes),  # what kind of update: `linux/arm64 manifest`
                *await reviewer.bump_lines(
                    edit.occurrence.reference, edit.old_digest, edit.new_digest
                ),
            ]
            blocks.append(
                describe(edit.image, edit.tag, old, new, old_digest=edit.old_digest, extra=extra)
            )
        return blocks


@contextmanager
def contained(
    name: str, failures: list[RepositoryResult], calls: ApiCalls | None = None
) -> Iterator[None]:
    """Whatever the block raises becomes repository `name`'s failure, with its reason, and
    the run goes on; GitHub requests made in it are counted against `name`."""
    with calls.scoped(name) if calls is not None else nullcontext():
        try:
            yield
        except Exception as exc:  # one repository must not stop the run
            failures.append(RepositoryResult.failed(name, failure_reason(name, exc)))


def _read_all(
    forge: GitHubForge,
    chosen: Sequence[tuple[str, Repository | None]],
    config: Config,
    observer: RunObserver,
) -> tuple[list[ScannedRepository], list[RepositoryResult]]:
    """Every chosen repository read and scanned; those that could not be, as failures (and
    finished: the observer hears of them at once)."""
    scanned: list[ScannedRepository] = []
    failed: list[RepositoryResult] = []
    for name, repo in chosen:
        with contained(name, failed, forge.calls):
            scanned.append(read_repository(forge, repo or forge.repository(name), config))
        if failed and failed[-1].repository == name:
            observer.finished(failed[-1], forge.calls.counted(name))
    return scanned, failed


def _reconcile_all(
    reconciler: Reconciler,
    scanned: Sequence[ScannedRepository],
    lookups: dict[str, Lookup],
    observer: RunObserver,
) -> list[RepositoryResult]:
    results: list[RepositoryResult] = []
    calls = reconciler.forge.calls
    for item in scanned:
        with contained(item.name, results, calls):
            results.append(reconciler.reconcile(item, lookups))
        observer.finished(results[-1], calls.counted(item.name))
    return results


def _look_up(
    registry: RegistrySession,
    scanned: Sequence[ScannedRepository],
    config: Config,
    settling: Settling | None,
) -> dict[str, Lookup]:
    """One registry lookup per tag for the whole run, whatever each repository's settings
    (a lookup that fails is that reference's error, see `pipeline.look_up`)."""
    configs = [config, *(s.config for s in scanned if s.config is not None)]
    rules = (rule for each in configs for rule in each.rules)
    pin = lookup_pin(config.pin, (each.pin for each in configs[1:]), rules)
    occurrences: list[Occurrence] = [o for s in scanned for o in s.occurrences]
    return registry.run(look_up(registry.client, occurrences, pin, settling=settling))


def _settling(
    scanned: Sequence[ScannedRepository],
    config: Config,
    options: RunOptions,
    summary: RunSummary,
) -> tuple[Settling | None, Callable[[], None]]:
    """Under a `min-age` (the run's or a repository's): the settle memory for the lookups
    (each occurrence under its repository's settings), and what keeps what they saw.

    Raises `StateFileError` (before any pull request is written) when the memory cannot be
    kept; a memory that cannot be read is a warning, and every new digest waits again.
    """
    configs = [config, *(s.config for s in scanned if s.config is not None)]
    if not min_age_in_force(configs):
        return None, lambda: None
    memory = SettleMemory.open(state_path(options.cache_dir, options.state_file))
    if memory.unusable is not None:
        summary.warnings.append(
            f"{memory.unusable}; not used: every new digest waits a whole min-age window again"
        )
    owner = {id(o): s.config or config for s in scanned for o in s.occurrences}
    settling = Settling(memory.state, utc_now(), lambda o: owner.get(id(o), config))

    def keep() -> None:
        if settling.seen is None:
            return
        try:
            memory.keep(settling.seen)
        except StateFileError as exc:
            summary.warnings.append(f"{exc}; the next run cannot tell how long digests waited")

    return settling, keep


def _run(
    forge: GitHubForge,
    registry: RegistrySession,
    config: Config,
    options: RunOptions,
    summary: RunSummary,
    observer: RunObserver,
) -> None:
    chosen, summary.skipped = forge.choose_repositories(options.selection)
    observer.started(len(chosen))
    scanned, failed = _read_all(forge, chosen, config, observer)
    observer.stage(f"looking up the tags of {len(scanned)} repositories read")
    settling, keep = _settling(scanned, config, options, summary)
    lookups = _look_up(registry, scanned, config, settling)
    summary.unique_tags = len(lookups)
    reconciler = Reconciler(
        forge, config, dry_run=options.dry_run, notes=registry.notes, screen=registry.screen
    )
    results = [*_reconcile_all(reconciler, scanned, lookups, observer), *failed]
    summary.results = sorted(results, key=lambda r: r.repository.lower())
    keep()
    summary.registry_requests = registry.client.stats.count()
    summary.registry_quota = registry.client.stats.quota_report()


def run_bot(
    config: Config,
    credentials: Credentials,
    options: RunOptions,
    observer: RunObserver | None = None,
) -> RunSummary:
    """The whole run; returns its summary. `observer` hears of each repository as it finishes.

    Raises `ForgeError` when there is nothing to run over (the organisation cannot be
    listed, the GitHub App is not installed); any failure within one repository is that
    repository's, in the summary.
    """
    started = time.monotonic()
    summary = RunSummary()
    github, calls = connect(
        credentials,
        pacing=options.pacing,
        calls=summary.calls,
        installation_owner=options.selection.installation_owner,
    )
    cache = ResponseCache(options.cache_dir) if options.cache_dir is not None else None
    try:
        with RegistrySession(config) as registry:
            forge = GitHubForge(github, calls, cache)
            _run(forge, registry, config, options, summary, observer or _Unobserved())
        if cache is not None:
            cache.prune()
    finally:
        github.close()
    summary.seconds = time.monotonic() - started
    return summary
