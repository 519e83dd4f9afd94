"""Reading a repository for the bot: its default branch, under its own settings file, scanned."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace

from github.Repository import Repository

from pinbot.config import (
    Config,
    ConfigError,
    PinConfig,
    RepositoryConfig,
    Rule,
    load_repository_config,
)
from pinbot.errors import Problem, ProblemKind
from pinbot.forge.github import GitHubForge, Snapshot
from pinbot.plan import apply_ignore_rules
from pinbot.scanners import Occurrence, scan_files

#: A repository's own settings, first found wins. They are pinbot's, never scanned for images.
SETTINGS_FILES = (".github/pinbot.yaml", ".pinbot.yaml")


@dataclass
class ScannedRepository:
    """A repository's default branch, read and scanned, waiting for the run's lookups."""

    repo: Repository
    snapshot: Snapshot
    occurrences: list[Occurrence]
    problems: list[Problem] = field(default_factory=list)
    config: Config | None = None  # the run's, merged with the repository's own settings
    skipped: str | None = None  # why the repository's settings say to leave it alone

    @property
    def name(self) -> str:
        return self.snapshot.repository

    @property
    def errors(self) -> list[str]:
        """The problems as text, one line each."""
        return [str(problem) for problem in self.problems]


def as_problem(found: str | Problem, kind: ProblemKind) -> Problem:
    """A stage's problem as a `Problem` (of `kind` when the stage still reports text)."""
    return found if isinstance(found, Problem) else Problem(kind, found)


def scan_snapshot(repo: Repository, snapshot: Snapshot, config: Config) -> ScannedRepository:
    """Scan the candidate files a snapshot read; scan problems are kept, not raised."""
    occurrences: list[Occurrence] = []
    problems: list[Problem] = list(snapshot.skipped)
    outcomes = scan_files(snapshot.files, ignore_images=config.scan.ignore_images)
    for outcome in outcomes.values():
        occurrences.extend(apply_ignore_rules(outcome.occurrences, config.rules))
        problems.extend(as_problem(error, ProblemKind.UNREADABLE_FILE) for error in outcome.errors)
    return ScannedRepository(repo, snapshot, occurrences, problems, config=config)


def settings_file(paths: Iterable[str]) -> tuple[str | None, list[str]]:
    """Which of the tree's settings files is read, and a warning for each one passed over.

    >>> settings_file(["Dockerfile", ".pinbot.yaml", ".github/pinbot.yaml"])[0]
    '.github/pinbot.yaml'
    """
    in_tree = set(paths)
    present = [name for name in SETTINGS_FILES if name in in_tree]
    if not present:
        return None, []
    chosen, *others = present
    return chosen, [f"{other}: not read, {chosen} comes first" for other in others]


def repository_settings(
    forge: GitHubForge, repo: Repository, snapshot: Snapshot, config: Config
) -> tuple[RepositoryConfig, list[Problem]]:
    """The run's configuration with the repository's own settings file merged over it.

    The file is in the tree already read, so this costs one blob read when there is one
    (none with the response cache once it has been read) and nothing when there is none.
    A file pinbot cannot use is a warning, and the repository gets the run's configuration.
    """
    path, passed_over = settings_file(snapshot.entries)
    warnings = [Problem(ProblemKind.WARNING, message) for message in passed_over]
    if path is None:
        return RepositoryConfig(config), warnings
    data = forge.read_file(repo, snapshot, path)
    try:
        return load_repository_config(data, path, config), warnings
    except ConfigError as exc:
        message = f"{exc} (this repository uses the run's configuration)"
        warnings.append(Problem(ProblemKind.WARNING, message))
        return RepositoryConfig(config, source=path), warnings


def read_repository(forge: GitHubForge, repo: Repository, config: Config) -> ScannedRepository:
    """Read and scan a repository's default branch under its own settings.

    A repository whose settings say `enabled: false` is returned with `skipped` set and no
    file read beyond the settings file.
    """
    snapshot = forge.read_tree(repo)
    settings, warnings = repository_settings(forge, repo, snapshot, config)
    if not settings.enabled:
        why = f"{settings.source} sets enabled: false"
        return ScannedRepository(repo, snapshot, [], warnings, settings.config, skipped=why)
    ignore = (*settings.config.scan.ignore_paths, *SETTINGS_FILES)
    forge.read_candidates(repo, snapshot, ignore)
    scanned = scan_snapshot(repo, snapshot, settings.config)
    scanned.problems[:0] = warnings
    return scanned


def lookup_pin(
    run: PinConfig, repositories: Iterable[PinConfig], rules: Iterable[Rule] = ()
) -> PinConfig:
    """Pin options under which the run's one shared set of lookups covers every repository.

    A repository that opts in to pinning untagged references or adding Helm digest keys
    needs their tags looked up, and one that names `platforms` (in `pin` or a rule) needs
    moved indexes read platform by platform; `plan` then applies each repository's own options.
    """
    pins = [run, *repositories]
    named = [p for pin in pins for p in pin.platforms]
    named += [p for rule in rules for p in rule.platforms or ()]
    return replace(
        run,
        pin_untagged=any(pin.pin_untagged for pin in pins),
        helm_insert_digest=any(pin.helm_insert_digest for pin in pins),
        platforms=tuple(dict.fromkeys(named)),
    )
