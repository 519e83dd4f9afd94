"""The bot: scan a repository's default branch on GitHub and keep its pinbot pull requests right.

Every run reconciles from scratch: what the base branch needs now, against what each pinbot
pull request (open or closed) recorded in its hidden state block. Nothing is written unless
something differs, so a run over an unchanged organisation makes no write calls. When an open
pull request is updated because a tag moved again, one comment says what moved since its last
update, and its notes keep the digests it proposed before (remembered in the state block).
Open pull requests are always kept right; new ones wait while `github.max-open-pulls` are open.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from github.Repository import Repository

from pinbot import prbody
from pinbot.apply import FileChange
from pinbot.config import Config, ConfigError, PinConfig, RepositoryConfig, load_repository_config
from pinbot.forge.github import ForgeError, GitHubForge, PullInfo, Snapshot
from pinbot.notes import add_lines, moved_line
from pinbot.pipeline import build_changes, finish
from pinbot.plan import Edit, Lookup, NoticeKind, Plan
from pinbot.prbody import PullState, Update
from pinbot.scanners import Occurrence, scan_files

REPOSITORY_BRANCH = "image-digests"
CLOSED_ON_BASE = "on-base"
CLOSED_NOTHING_LEFT = "nothing-left"
#: A repository's own settings, first found wins. They are pinbot's, never scanned for images.
SETTINGS_FILES = (".github/pinbot.yaml", ".pinbot.yaml")
#: Pull requests held back by `github.max-open-pulls` that a warning names one by one.
MAX_HELD_NAMES = 5

#: Makes the per-image notes for a pull request's edits (Markdown blocks, one per image).
NotesSource = Callable[[Sequence[Edit]], list[str]]
#: The time a run writes into the state blocks of the pull requests it writes.
Clock = Callable[[], datetime]


@dataclass
class ScannedRepository:
    """A repository's default branch, read and scanned, waiting for the run's lookups."""

    repo: Repository
    snapshot: Snapshot
    occurrences: list[Occurrence]
    errors: list[str] = field(default_factory=list)
    config: Config | None = None  # the run's, merged with the repository's own settings
    skipped: str | None = None  # why the repository's settings say to leave it alone

    @property
    def name(self) -> str:
        return self.snapshot.repository


@dataclass
class RepositoryResult:
    """What one repository's run did, for the run summary."""

    repository: str
    opened: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    closed: list[str] = field(default_factory=list)
    current: list[str] = field(default_factory=list)  # open PRs already right
    declined: list[str] = field(default_factory=list)  # updates a human closed before
    held_back: list[str] = field(default_factory=list)  # new PRs over github.max-open-pulls
    planned: list[str] = field(default_factory=list)  # --dry-run: what would be written
    warnings: list[str] = field(default_factory=list)
    failure: str | None = None
    skipped: str | None = None
    references: int = 0
    files: int = 0


@dataclass(frozen=True)
class Group:
    """The edits that go into one pull request, and the branch that carries them."""

    name: str
    branch: str
    edits: tuple[Edit, ...]


def branch_slug(image: str) -> str:
    """A branch-name-safe spelling of an image name.

    >>> branch_slug("ghcr.io/acme/api")
    'ghcr.io-acme-api'
    """
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", image).strip("-.")
    return re.sub(r"\.{2,}", ".", slug) or "image"


def group_edits(edits: Sequence[Edit], config: Config) -> list[Group]:
    """One group per repository (default), or one per image name."""
    prefix = config.github.branch_prefix
    if not edits:
        return []
    if config.github.group == "image":
        by_image: dict[str, list[Edit]] = {}
        for edit in edits:
            by_image.setdefault(edit.image, []).append(edit)
        return [
            Group(image, prefix + branch_slug(image), tuple(group))
            for image, group in sorted(by_image.items())
        ]
    return [Group("", prefix + REPOSITORY_BRANCH, tuple(edits))]


@dataclass
class OpenPullRoom:
    """Room for new pinbot pull requests in one repository under `github.max-open-pulls`.

    Counts the pull requests open when the run started, those it opens and those it closes;
    a new one that finds no room is held back (by name) for a later run.
    """

    limit: int  # 0: no limit
    open: int = 0
    held: list[str] = field(default_factory=list)

    def take(self, name: str) -> bool:
        """Whether a new pull request (`name`: its image, or the branch) may open now."""
        if self.limit and self.open >= self.limit:
            self.held.append(name)
            return False
        self.open += 1
        return True

    def release(self) -> None:
        self.open = max(0, self.open - 1)

    def warning(self) -> str | None:
        """What the run summary says about the pull requests held back, if any."""
        if not self.held:
            return None
        count = len(self.held)
        names = ", ".join(self.held[:MAX_HELD_NAMES])
        if count > MAX_HELD_NAMES:
            names += f" and {count - MAX_HELD_NAMES} more"
        return (
            f"{count} new pull request{'s' if count != 1 else ''} held back ({names}): "
            f"github.max-open-pulls allows {self.limit} open at once; later runs open "
            "them as open ones are merged or closed"
        )


def update_of(edit: Edit) -> Update:
    return Update(
        file=edit.file,
        line=edit.occurrence.line,
        image=edit.image,
        tag=edit.tag,
        old=edit.old_digest,
        new=edit.new_digest,
    )


def scan_snapshot(repo: Repository, snapshot: Snapshot, config: Config) -> ScannedRepository:
    """Scan the candidate files a snapshot read; scan problems are kept, not raised."""
    occurrences: list[Occurrence] = []
    errors: list[str] = list(snapshot.skipped)
    outcomes = scan_files(snapshot.files, ignore_images=config.scan.ignore_images)
    for outcome in outcomes.values():
        occurrences.extend(outcome.occurrences)
        errors.extend(outcome.errors)
    return ScannedRepository(repo, snapshot, occurrences, errors, config=config)


def settings_file(paths: Iterable[str]) -> tuple[str | None, list[str]]:
    """Which of the tree's settings files is read, and a warning for each one passed over.

    >>> settings_file(["Dockerfile", ".pinbot.yaml", ".github/pinbot.yaml"])[0]
    '.github/pinbot.yaml'
    """
    held = set(paths)
    present = [name for name in SETTINGS_FILES if name in held]
    if not present:
        return None, []
    chosen, *others = present
    return chosen, [f"{other}: not read, {chosen} comes first" for other in others]


def repository_settings(
    forge: GitHubForge, repo: Repository, snapshot: Snapshot, config: Config
) -> tuple[RepositoryConfig, list[str]]:
    """The run's configuration with the repository's own settings file merged over it.

    The file is in the tree already read, so this costs one blob read when there is one
    (none with the response cache once it has been read) and nothing when there is none.
    A file pinbot cannot use is a warning, and the repository gets the run's configuration.
    """
    path, warnings = settings_file(snapshot.entries)
    if path is None:
        return RepositoryConfig(config), warnings
    data = forge.read_file(repo, snapshot, path)
    try:
        return load_repository_config(data, path, config), warnings
    except ConfigError as exc:
        warnings.append(f"{exc} (this repository uses the run's configuration)")
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
    scanned.errors[:0] = warnings
    return scanned


def lookup_pin(run: PinConfig, repositories: Iterable[PinConfig]) -> PinConfig:
    """Pin options under which the run's one shared set of lookups covers every repository.

    A repository that opts in to pinning untagged references or adding Helm digest keys
    needs their tags looked up; `plan` then applies each repository's own options.
    """
    pins = [run, *repositories]
    return replace(
        run,
        pin_untagged=any(pin.pin_untagged for pin in pins),
        helm_insert_digest=any(pin.helm_insert_digest for pin in pins),
    )


def _held_digests(occurrences: Sequence[Occurrence]) -> set[str]:
    """The answer ids (see `prbody.answer_id`) of the digests the base branch already has."""
    held = set()
    for occurrence in occurrences:
        reference = occurrence.reference
        if reference is not None and reference.digest is not None:
            held.add(prbody.answer_id(reference.familiar_name, reference.tag, reference.digest))
    return held


def with_history(blocks: Sequence[str], state: PullState) -> list[str]:
    """The notes with, for each image tag that moved while the pull request was open, the
    digests it proposed before and when (from the state, so nothing more is fetched)."""
    current = {(update.image, update.tag): update.new for update in state.updates}
    out = list(blocks)
    for (image, tag), earlier in sorted(
        prbody.history(state).items(), key=lambda item: (item[0][0], item[0][1] or "")
    ):
        new = current.get((image, tag))
        if new is None:
            continue
        proposals = [(p.digest, prbody.parse_time(p.proposed)) for p in earlier]
        out = add_lines(out, image, tag, [moved_line(proposals, new)])
    return out


def post_comment(forge: GitHubForge, repo: Repository, pull: PullInfo, body: str) -> str | None:
    """Comment on a pull request; a refusal is returned as a warning, not raised."""
    try:
        forge.comment(repo, pull, body)
    except ForgeError as exc:
        return f"#{pull.number}: the comment saying what moved was refused: {exc}"
    return None


def _closing_body(pull: PullInfo, state: PullState | None, reason: str) -> str:
    """The PR body with its hidden block saying pinbot closed it (and not a human)."""
    marked = replace(state or PullState(updates=()), closed=reason)
    return prbody.replace_state(pull.body, marked)


class Reconciler:
    """Brings one repository's pinbot pull requests in line with what its base branch needs."""

    def __init__(
        self,
        forge: GitHubForge,
        config: Config,
        *,
        dry_run: bool = False,
        notes: NotesSource | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.forge = forge
        self.config = config
        self.dry_run = dry_run
        self.notes = notes
        self.clock = clock or (lambda: datetime.now(UTC))

    def reconcile(
        self, scanned: ScannedRepository, lookups: Mapping[str, Lookup]
    ) -> RepositoryResult:
        result = RepositoryResult(scanned.name)
        result.files = len(scanned.snapshot.files)
        result.references = len(scanned.occurrences)
        result.warnings.extend(scanned.errors)
        if scanned.skipped is not None:
            # Left alone entirely: no pull request is read, opened, updated or closed.
            result.skipped = scanned.skipped
            return result
        try:
            self._reconcile(scanned, lookups, result)
        except ForgeError as exc:
            result.failure = str(exc)
        return result

    def _config(self, scanned: ScannedRepository) -> Config:
        return scanned.config or self.config

    def _reconcile(
        self,
        scanned: ScannedRepository,
        lookups: Mapping[str, Lookup],
        result: RepositoryResult,
    ) -> None:
        snapshot = scanned.snapshot
        config = self._config(scanned)
        outcome = finish(snapshot.files, scanned.occurrences, lookups, config)
        result.warnings.extend(outcome.errors)
        for notice in outcome.plan.notices:
            if notice.kind in (NoticeKind.LOOKUP_FAILED, NoticeKind.NOT_VERIFIED):
                result.warnings.append(str(notice))
        # Only edits that apply cleanly are proposed; a file that failed its check is a warning.
        applied = {change.path for change in outcome.changes}
        edits = [edit for edit in outcome.plan.edits if edit.file in applied]
        groups = {group.branch: group for group in group_edits(edits, config)}

        branches = set(groups)
        open_branches: set[str] = set()
        if config.github.group == "repository":
            # One pull request at most, which max-open-pulls (0, or 1 and more) never holds back.
            branches.add(config.github.branch_prefix + REPOSITORY_BRANCH)
        else:
            open_branches = self._open_bot_branches(scanned.repo, config)
            branches |= open_branches
        room = OpenPullRoom(config.github.max_open_pulls, len(open_branches))
        held = _held_digests(scanned.occurrences)
        # Branches with an open pull request first: one closed now makes room for a new one.
        for branch in sorted(branches, key=lambda name: (name not in open_branches, name)):
            pulls = self.forge.pulls_for_branch(scanned.repo, branch)
            group = groups.get(branch)
            self._reconcile_branch(scanned, branch, group, pulls, held, room, result)
        result.held_back.extend(room.held)
        warning = room.warning()
        if warning is not None:
            result.warnings.append(warning)

    def _open_bot_branches(self, repo: Repository, config: Config) -> set[str]:
        """Branches under the prefix that have an open pull request (image grouping only)."""
        pulls = self.forge.open_pulls_under(repo, config.github.branch_prefix)
        return {pull.head_ref for pull in pulls}

    def _reconcile_branch(
        self,
        scanned: ScannedRepository,
        branch: str,
        group: Group | None,
        pulls: Sequence[PullInfo],
        held: set[str],
        room: OpenPullRoom,
        result: RepositoryResult,
    ) -> None:
        open_pull = next((p for p in pulls if p.state == "open"), None)
        declined: dict[str, int] = {}
        for pull in pulls:
            if pull.state != "closed" or pull.merged:
                continue
            state = prbody.parse_state(pull.body)
            if state is None or state.closed is not None:
                continue  # not pinbot's, or closed by pinbot itself: not a human's answer
            for key in state.answer_ids():
                declined.setdefault(key, pull.number)

        edits = list(group.edits) if group else []
        kept = [edit for edit in edits if update_of(edit).answer_id not in declined]
        for edit in edits:
            if edit not in kept:
                key = update_of(edit).answer_id
                result.declined.append(
                    f"{edit.occurrence.location}: {edit.image}:{edit.tag} {edit.new_digest} "
                    f"(closed unmerged in #{declined[key]})"
                )

        if not kept:
            if open_pull is not None:
                self._close(scanned, branch, open_pull, held, result)
                room.release()
            return

        changes, errors = build_changes(scanned.snapshot.files, Plan(edits=kept))
        result.warnings.extend(errors)
        if not changes:
            return
        kept = [edit for change in changes for edit in change.edits]
        updates = sorted(update_of(edit) for edit in kept)
        blobs = {change.path: scanned.snapshot.entries[change.path].sha for change in changes}

        previous: PullState | None = None
        if open_pull is not None:
            state = prbody.parse_state(open_pull.body)
            previous = state
            if state is not None and state.commit and open_pull.head_sha != state.commit:
                result.warnings.append(
                    f"#{open_pull.number}: branch {branch} has commits pinbot did not make; "
                    "left as it is"
                )
                result.current.append(open_pull.url)
                return
            if state is not None and state.proposes(updates, blobs):
                # Same digests, and the base has not changed the files under the branch: a
                # base that moved elsewhere merges cleanly, so the branch is left alone.
                result.current.append(open_pull.url)
                return
        if open_pull is None and not room.take(group.name if group and group.name else branch):
            return
        self._write(scanned, branch, changes, kept, updates, blobs, open_pull, previous, result)

    def _write(
        self,
        scanned: ScannedRepository,
        branch: str,
        changes: Sequence[FileChange],
        edits: Sequence[Edit],
        updates: list[Update],
        blobs: dict[str, str],
        open_pull: PullInfo | None,
        previous: PullState | None,
        result: RepositoryResult,
    ) -> None:
        repo, snapshot = scanned.repo, scanned.snapshot
        github = self._config(scanned).github
        # The prefix is applied whenever the pull request is written: one opened before it
        # was set is retitled on its next update, never by a run that would write nothing else.
        title = prbody.title(updates, github.title_prefix)
        verb = "update" if open_pull is not None else "open"
        # What moved since the open pull request was last written: said once, as a comment.
        moved = prbody.moves(previous, updates) if open_pull and previous else []
        comment = prbody.moved_comment(moved, previous.written) if moved and previous else ""
        if self.dry_run:
            where = f" #{open_pull.number}" if open_pull else ""
            diff = "".join(change.diff() for change in changes)
            said = f"and comment:\n{comment}\n\n" if comment else ""
            result.planned.append(
                f"would {verb} pull request{where} on {branch}: {title}\n\n"
                f"{said}{prbody.table(updates)}\n\n{diff}"
            )
            return
        files = {change.path: change.updated for change in changes}
        message = prbody.commit_message(updates, github.title_prefix)
        commit = self.forge.commit(repo, snapshot, files, message)
        state = prbody.next_state(
            previous if open_pull is not None else None,
            updates,
            base=snapshot.commit,
            commit=commit,
            blobs=blobs,
            now=prbody.format_time(self.clock()),
        )
        notes = with_history(self.notes(edits) if self.notes is not None else [], state)
        body = prbody.render(updates, state, notes)
        if open_pull is not None:
            self.forge.move_branch(repo, branch, commit, exists=True)
            self.forge.edit_pull(repo, open_pull, title=title, body=body)
            result.updated.append(open_pull.url)
            # The pull request is updated whatever happens next: a refusal is only a warning.
            if comment:
                refused = post_comment(self.forge, repo, open_pull, comment)
                if refused is not None:
                    result.warnings.append(refused)
            return
        self.forge.move_branch(repo, branch, commit, exists=None)
        pull = self.forge.open_pull(
            repo, branch=branch, base=snapshot.branch, title=title, body=body, draft=github.draft
        )
        result.opened.append(pull.url)
        # The pull request is open whatever happens next: a refusal here is only a warning.
        result.warnings.extend(
            self.forge.decorate(
                repo,
                pull,
                labels=github.labels,
                reviewers=github.reviewers,
                team_reviewers=github.team_reviewers,
                assignees=github.assignees,
            )
        )

    def _close(
        self,
        scanned: ScannedRepository,
        branch: str,
        pull: PullInfo,
        held: set[str],
        result: RepositoryResult,
    ) -> None:
        state = prbody.parse_state(pull.body)
        on_base = state is not None and state.answer_ids() <= held
        reason, comment = (
            (CLOSED_ON_BASE, prbody.CLOSED_ON_BASE)
            if on_base
            else (CLOSED_NOTHING_LEFT, prbody.CLOSED_NOTHING_LEFT)
        )
        if self.dry_run:
            result.planned.append(f"would close pull request #{pull.number} on {branch}: {reason}")
            return
        self.forge.close_pull(
            scanned.repo, pull, comment=comment, body=_closing_body(pull, state, reason)
        )
        self.forge.delete_branch(scanned.repo, branch)
        result.closed.append(pull.url)
