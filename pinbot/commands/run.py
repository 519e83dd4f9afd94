"""`pinbot run`: the bot over GitHub repositories, opening and keeping pull requests.

Reads every chosen repository first (under its own settings file, when it has one), asks the
registries once per unique tag for the whole run, then reconciles each repository's pull
requests. One repository's failure is reported
and the rest go on; the exit status is 1 when any failed.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from collections.abc import Coroutine, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from github import GithubException

from pinbot.bot import Reconciler, RepositoryResult, ScannedRepository, lookup_pin, read_repository
from pinbot.commands._common import (
    add_config_argument,
    load_config_or_exit,
)
from pinbot.commands._github import (
    add_cache_argument,
    add_repository_arguments,
    choose_repositories,
    installation_owner,
    response_cache,
)
from pinbot.config import Config
from pinbot.forge.github import ApiCalls, Credentials, ForgeError, GitHubForge, Pacing, connect
from pinbot.notes import describe
from pinbot.pipeline import look_up
from pinbot.plan import Edit, Lookup
from pinbot.registry import ImageMetadata, RegistryClient, RegistryError
from pinbot.report.escape import workflow_command
from pinbot.scanners import Occurrence

HELP = "Open and maintain digest pull requests on GitHub repositories (one, several or an organisation)."

T = TypeVar("T")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_repository_arguments(parser, shard_purpose="for parallel jobs")
    parser.add_argument(
        "--dry-run", action="store_true", help="print what would be opened, write nothing"
    )
    add_cache_argument(
        parser,
        help_text="keep GitHub answers here between runs: unchanged reads are then answered 304, "
        "which GitHub does not count against the rate limit (keep DIR with actions/cache)",
    )
    parser.add_argument(
        "--write-interval",
        type=float,
        default=Pacing.between_writes,
        metavar="SECONDS",
        help="pause between GitHub write requests (default 1, as GitHub asks)",
    )
    add_config_argument(parser)


# --- the run summary --------------------------------------------------------------------


@dataclass
class RunSummary:
    results: list[RepositoryResult] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)
    calls: ApiCalls = field(default_factory=ApiCalls)
    registry_requests: int = 0
    registry_quota: list[str] = field(default_factory=list)
    unique_tags: int = 0
    seconds: float = 0.0

    @property
    def failures(self) -> list[RepositoryResult]:
        return [r for r in self.results if r.failure is not None]

    @property
    def left_alone(self) -> list[RepositoryResult]:
        """Repositories whose own settings say `enabled: false`."""
        return [r for r in self.results if r.skipped is not None]

    def count(self, what: str) -> int:
        return sum(len(getattr(r, what)) for r in self.results)

    def headline(self) -> str:
        left_alone = len(self.left_alone)
        skipped = f", {left_alone} skipped by their own settings" if left_alone else ""
        held_back = self.count("held_back")
        held = f", {held_back} held back by github.max-open-pulls" if held_back else ""
        return (
            f"{len(self.results) - left_alone} repositories scanned{skipped}, "
            f"{self.count('opened')} pull requests opened, "
            f"{self.count('updated')} updated, {self.count('closed')} closed{held}, "
            f"{len(self.failures)} failed; {self.unique_tags} tags looked up; "
            f"{self.calls.counted()} GitHub API calls counted against the rate limit"
            f"{self._free(' ({})')} in {self.seconds:.1f} s"
        )

    def _free(self, template: str, scope: str | None = None) -> str:
        """The reads that cost nothing (answered 304, or read from the cache) in `template`,
        or nothing when there were none."""
        calls = self.calls
        if scope is None:
            not_modified, cached = sum(calls.not_modified.values()), sum(calls.cached.values())
        else:
            not_modified, cached = calls.not_modified[scope], calls.cached[scope]
        if not (not_modified or cached):
            return ""
        return template.format(f"{not_modified} more answered 304, {cached} read from the cache")

    def text(self) -> str:
        lines = [f"pinbot run: {self.headline()}", *self.registry_quota]
        for r in self.results:
            calls = self.calls.counted(r.repository)
            writes = self.calls.writes[r.repository]
            status = "FAILED" if r.failure else f"skipped ({r.skipped})" if r.skipped else "ok"
            lines.append(
                f"{r.repository}: {status}; {calls} API calls ({writes} writes"
                f"{self._free('; {}', r.repository)})"
            )
            for label, items in (
                ("opened", r.opened),
                ("updated", r.updated),
                ("closed", r.closed),
                ("current", r.current),
                ("declined earlier", r.declined),
            ):
                lines.extend(f"  {label}: {item}" for item in items)
            for item in r.planned:  # a title, a table and a diff: indent every line
                lines.extend(f"  {line}" if line else "" for line in item.splitlines())
            lines.extend(f"  warning: {w}" for w in r.warnings)
            if r.failure:
                lines.append(f"  failure: {r.failure}")
        return "\n".join(lines) + "\n"

    def _calls_cell(self, scope: str) -> str:
        free = self.calls.not_modified[scope] + self.calls.cached[scope]
        counted = self.calls.counted(scope)
        return f"{counted} (+{free} free)" if free else str(counted)

    def markdown(self) -> str:
        lines = [
            "## pinbot run",
            "",
            self.headline(),
            "",
            "| Repository | Opened | Updated | Closed | API calls | Result |",
            "|---|---|---|---|---|---|",
        ]
        for r in self.results:
            result = (
                f"failed: {r.failure}"
                if r.failure
                else f"skipped: {r.skipped}"
                if r.skipped
                else "ok"
            )
            result = result.replace("|", "\\|")
            if not r.failure and r.warnings:
                result += f" ({len(r.warnings)} warnings)"
            lines.append(
                f"| {r.repository} | {len(r.opened)} | {len(r.updated)} | {len(r.closed)} | "
                f"{self._calls_cell(r.repository)} | {result} |"
            )
        links = [url for r in self.results for url in (*r.opened, *r.updated)]
        if links:
            lines += ["", "Pull requests opened or updated:", ""] + [f"- {url}" for url in links]
        return "\n".join(lines) + "\n"

    def annotations(self) -> list[str]:
        out = []
        for r in self.results:
            if r.failure:
                title = workflow_command(f"pinbot {r.repository} failed", property_value=True)
                out.append(f"::warning title={title}::{workflow_command(r.failure)}")
            for warning in r.warnings:
                title = workflow_command(f"pinbot {r.repository}", property_value=True)
                out.append(f"::warning title={title}::{workflow_command(warning)}")
        return out


# --- the run ----------------------------------------------------------------------------


class _Registry:
    """One registry client on one event loop for the whole run (lookups, then notes)."""

    def __init__(self, config: Config) -> None:
        self.loop = asyncio.new_event_loop()
        self.client = RegistryClient(config)
        self.run(self.client.__aenter__())

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return self.loop.run_until_complete(coroutine)

    def close(self) -> None:
        try:
            self.run(self.client.__aexit__(None, None, None))
        finally:
            self.loop.close()

    def notes(self, edits: Sequence[Edit]) -> list[str]:
        """One `describe` block per image tag and digest change, from registry metadata."""
        return self.run(self._notes(edits))

    async def _notes(self, edits: Sequence[Edit]) -> list[str]:
        seen: dict[tuple[str, str | None, str | None, str], Edit] = {}
        for edit in edits:
            assert edit.occurrence.reference is not None
            key = (edit.occurrence.reference.name, edit.tag, edit.old_digest, edit.new_digest)
            seen.setdefault(key, edit)

        async def metadata(edit: Edit, digest: str | None) -> ImageMetadata | None:
            if digest is None or edit.occurrence.reference is None:
                return None
            try:
                return await self.client.fetch_metadata(
                    edit.occurrence.reference.without_digest(), digest
                )
            except RegistryError:
                return None

        blocks = []
        for edit in sorted(seen.values(), key=lambda e: (e.image, e.tag or "")):
            old = await metadata(edit, edit.old_digest)
            new = await metadata(edit, edit.new_digest)
            blocks.append(describe(edit.image, edit.tag, old, new, old_digest=edit.old_digest))
        return blocks


def _unexpected(name: str, exc: Exception) -> str:
    return f"{name}: unexpected {type(exc).__name__}: {exc}"


def execute(args: argparse.Namespace, config: Config, credentials: Credentials) -> RunSummary:
    """The whole run; returns its summary (also used by tests and the benchmark)."""
    started = time.monotonic()
    summary = RunSummary()
    pacing = Pacing(between_writes=args.write_interval)
    github, calls = connect(
        credentials, pacing=pacing, calls=summary.calls, installation_owner=installation_owner(args)
    )
    cache = response_cache(args)
    forge = GitHubForge(github, calls, cache)
    registry = _Registry(config)
    try:
        scanned: list[ScannedRepository] = []
        failed: list[RepositoryResult] = []
        chosen, summary.skipped = choose_repositories(forge, args)
        for name, repo in chosen:
            with calls.scoped(name):
                try:
                    repo = repo or forge.repository(name)
                    scanned.append(read_repository(forge, repo, config))
                except ForgeError as exc:
                    failed.append(RepositoryResult(name, failure=str(exc)))
                except GithubException as exc:
                    failed.append(RepositoryResult(name, failure=f"{name}: HTTP {exc.status}"))
                except Exception as exc:  # one repository must not stop the run
                    failed.append(RepositoryResult(name, failure=_unexpected(name, exc)))

        occurrences: list[Occurrence] = [o for s in scanned for o in s.occurrences]
        # One registry lookup per tag for the whole run, whatever each repository's settings.
        pin = lookup_pin(config.pin, (s.config.pin for s in scanned if s.config is not None))
        lookups: dict[str, Lookup] = registry.run(look_up(registry.client, occurrences, pin))
        summary.unique_tags = len(lookups)

        reconciler = Reconciler(forge, config, dry_run=args.dry_run, notes=registry.notes)
        for item in scanned:
            with calls.scoped(item.name):
                try:
                    summary.results.append(reconciler.reconcile(item, lookups))
                except GithubException as exc:
                    summary.results.append(
                        RepositoryResult(item.name, failure=f"{item.name}: HTTP {exc.status}")
                    )
                except Exception as exc:  # one repository must not stop the run
                    summary.results.append(
                        RepositoryResult(item.name, failure=_unexpected(item.name, exc))
                    )
        summary.results.extend(failed)
        summary.results.sort(key=lambda r: r.repository.lower())
        summary.registry_requests = registry.client.stats.count()
        summary.registry_quota = registry.client.stats.quota_report()
        if cache is not None:
            cache.prune()
    finally:
        registry.close()
        github.close()
    summary.seconds = time.monotonic() - started
    return summary


def report(summary: RunSummary, environ: dict[str, str] | os._Environ[str] = os.environ) -> None:
    sys.stdout.write(summary.text())
    if environ.get("GITHUB_ACTIONS") == "true":
        for line in summary.annotations():
            print(line)
        step_summary = environ.get("GITHUB_STEP_SUMMARY")
        if step_summary:
            with Path(step_summary).open("a", encoding="utf-8") as stream:
                stream.write(summary.markdown())


def run(args: argparse.Namespace) -> int:
    config = load_config_or_exit(args.config)
    if not args.org and (args.include or args.exclude or args.topic):
        print("pinbot run: --include, --exclude and --topic need --org", file=sys.stderr)
        return 2
    try:
        credentials = Credentials.from_environment()
    except (ValueError, OSError) as exc:
        print(f"pinbot run: {exc}", file=sys.stderr)
        return 2
    try:
        summary = execute(args, config, credentials)
    except ForgeError as exc:
        print(f"pinbot run: {exc}", file=sys.stderr)
        return 1
    report(summary)
    return 1 if summary.failures else 0
