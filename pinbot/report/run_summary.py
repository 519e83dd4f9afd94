"""The run summary of `pinbot run`: text for the log, Markdown for the job summary, and
GitHub Actions `::warning` annotations.

Repository names, pull request links, warnings and failure reasons come from outside (GitHub,
repositories, registries): each goes through `pinbot.report.escape` for its target.
"""

from __future__ import annotations

from collections.abc import Sequence

from pinbot.bot.result import MergeOutcomeKind, PlannedWrite, RepositoryResult
from pinbot.bot.run import RunSummary
from pinbot.errors import Problem, ProblemKind
from pinbot.report.escape import autolink, code_cell, terminal, workflow_command
from pinbot.report.escape import text as markdown_text

__all__ = [
    "headline",
    "markdown",
    "planned_text",
    "progress_line",
    "text",
    "unchecked_counts",
    "workflow_warnings",
]


def _free(summary: RunSummary, template: str, scope: str | None = None) -> str:
    """The reads that cost nothing (answered 304, or read from the cache) in `template`, or
    nothing when there were none."""
    calls = summary.calls
    if scope is None:
        not_modified, cached = sum(calls.not_modified.values()), sum(calls.cached.values())
    else:
        not_modified, cached = calls.not_modified[scope], calls.cached[scope]
    if not (not_modified or cached):
        return ""
    return template.format(f"{not_modified} more answered 304, {cached} read from the cache")


#: How the headline and a repository's status count what could not be checked.
_UNCHECKED = (
    (ProblemKind.LOOKUP_FAILED, "reference whose lookup failed", "references whose lookup failed"),
    (ProblemKind.UNREADABLE_FILE, "file unreadable", "files unreadable"),
    (ProblemKind.WRITE_REFUSED, "edit refused", "edits refused"),
    (ProblemKind.UNSIGNED, "digest held back (unsigned)", "digests held back (unsigned)"),
    (
        ProblemKind.SIGNATURE_INVALID,
        "digest held back (signature-invalid)",
        "digests held back (signature-invalid)",
    ),
    (
        ProblemKind.PROVENANCE_MISMATCH,
        "digest held back (provenance-mismatch)",
        "digests held back (provenance-mismatch)",
    ),
)


def unchecked_counts(problems: Sequence[Problem]) -> str:
    """`2 references whose lookup failed, 1 file unreadable`: what could not be checked, by kind ("" if none)."""
    parts = []
    for kind, one, many in _UNCHECKED:
        count = sum(problem.kind is kind for problem in problems)
        if count:
            parts.append(f"{count} {one if count == 1 else many}")
    return ", ".join(parts)


def headline(summary: RunSummary) -> str:
    """One sentence: repositories, pull requests opened, updated and closed, failures, what
    could not be checked, cost."""
    left_alone = len(summary.left_alone)
    skipped = f", {left_alone} skipped by their own settings" if left_alone else ""
    held_back = summary.count("held_back")
    held = f", {held_back} held back by github.max-open-pulls" if held_back else ""
    waiting = summary.count("waiting")
    held += f", {waiting} updates waiting for min-age" if waiting else ""
    merged = summary.count("merged")
    held += f", {merged} merged" if merged else ""
    unchecked = unchecked_counts(summary.unchecked)
    return (
        f"{len(summary.results) - left_alone} repositories scanned{skipped}, "
        f"{summary.count('opened')} pull requests opened, "
        f"{summary.count('updated')} updated, {summary.count('closed')} closed{held}, "
        f"{len(summary.failures)} failed{', ' + unchecked if unchecked else ''}; "
        f"{summary.unique_tags} tags looked up; "
        f"{summary.calls.counted()} GitHub API calls counted against the rate limit"
        f"{_free(summary, ' ({})')} in {summary.seconds:.1f} s"
    )


def _outcome(result: RepositoryResult) -> tuple[str, str]:
    """How a repository's run ended, the worst first, and what to say with it (raw text):
    failed (why), skipped (why), incomplete (what was not checked), ok (warnings, if any)."""
    if result.failure:
        return "failed", str(result.failure)
    if result.skipped:
        return "skipped", result.skipped
    if result.unchecked:
        return "incomplete", unchecked_counts(result.unchecked)
    return "ok", f"{len(result.problems)} warnings" if result.problems else ""


def _status(result: RepositoryResult) -> str:
    """The outcome in the log, shouted when it fails the run; a failure and the warnings
    follow on lines of their own, so only a skip and what was not checked say more here."""
    outcome, detail = _outcome(result)
    word = outcome.upper() if outcome in ("failed", "incomplete") else outcome
    return f"{word} ({detail})" if outcome in ("skipped", "incomplete") else word


def planned_text(planned: PlannedWrite) -> str:
    """What a dry run would write: a title line, then the comment, table and diff."""
    number = f" #{planned.number}" if planned.number is not None else ""
    where = f"pull request{number} on {planned.branch}"
    if planned.verb not in ("open", "update"):  # close, merge, turn auto-merge on or off
        return f"would {planned.verb} {where}: {planned.reason}"
    said = f"and comment:\n{planned.comment}\n\n" if planned.comment else ""
    return (
        f"would {planned.verb} {where}: {planned.title}\n\n{said}{planned.table}\n\n{planned.diff}"
    )


def _repository_lines(summary: RunSummary, result: RepositoryResult) -> list[str]:
    name = result.repository
    calls, writes = summary.calls.counted(name), summary.calls.writes[name]
    lines = [
        f"{name}: {_status(result)}; {calls} API calls ({writes} writes"
        f"{_free(summary, '; {}', name)})"
    ]
    for label, actions in (
        ("opened", result.opened),
        ("updated", result.updated),
        ("closed", result.closed),
        ("current", result.current),
    ):
        lines.extend(f"  {label}: {action.url}" for action in actions)
    lines.extend(f"  declined earlier: {declined}" for declined in result.declined)
    lines.extend(f"  waiting: {waiting}" for waiting in result.waiting)
    lines.extend(f"  {outcome.kind}: {outcome}" for outcome in result.merges)
    for planned in result.planned:  # a title, a table and a diff: indent every line
        lines.extend(f"  {line}" if line else "" for line in planned_text(planned).splitlines())
    lines.extend(f"  {problem.kind}: {problem}" for problem in result.problems)
    if result.failure:
        lines.append(f"  failure: {result.failure}")
    return lines


def text(summary: RunSummary) -> str:
    """The summary for a terminal or a log: one line per record, control characters escaped."""
    lines = [f"pinbot run: {headline(summary)}", *summary.registry_quota]
    lines.extend(f"warning: {warning}" for warning in summary.warnings)
    for result in summary.results:
        lines.extend(_repository_lines(summary, result))
    return "".join(terminal(line) + "\n" for line in lines)


def _count(count: int, one: str, many: str) -> str:
    return f"{count} {one if count == 1 else many}"


def progress_line(result: RepositoryResult, calls: int) -> str:
    """One plain line for a repository as it finishes:
    `acme/web: 1 PR updated, 12 references, 4 calls`."""
    name = result.repository
    if result.failure is not None:
        return f"{name}: FAILED: {str(result.failure).removeprefix(f'{name}: ')}"
    if result.skipped is not None:
        return f"{name}: skipped ({result.skipped})"
    parts = [
        _count(len(actions), f"PR {verb}", f"PRs {verb}")
        for verb, actions in (
            ("opened", result.opened),
            ("updated", result.updated),
            ("closed", result.closed),
            ("held back", result.held_back),
            ("planned", result.planned),
        )
        if actions
    ]
    parts += [
        _count(len(outcomes), f"PR {kind}", f"PRs {kind}")
        for kind in MergeOutcomeKind
        if (outcomes := result.merge_outcomes(kind))
    ]
    unchecked = unchecked_counts(result.unchecked)
    parts += [
        _count(result.references, "reference", "references"),
        *([unchecked] if unchecked else []),
    ]
    return f"{name}: {', '.join(parts)}, {_count(calls, 'call', 'calls')}"


def _calls_cell(summary: RunSummary, scope: str) -> str:
    free = summary.calls.not_modified[scope] + summary.calls.cached[scope]
    counted = summary.calls.counted(scope)
    return f"{counted} (+{free} free)" if free else str(counted)


def _result_cell(result: RepositoryResult) -> str:
    outcome, detail = _outcome(result)
    if outcome == "ok":
        return f"ok ({detail})" if detail else "ok"
    return f"{outcome}: {markdown_text(detail)}"


def markdown(summary: RunSummary) -> str:
    """The summary for `$GITHUB_STEP_SUMMARY`: a table per repository and the pull requests."""
    lines = [
        "## pinbot run",
        "",
        headline(summary),
        "",
        "| Repository | Opened | Updated | Closed | API calls | Result |",
        "|---|---|---|---|---|---|",
    ]
    for result in summary.results:
        lines.append(
            f"| {code_cell(result.repository)} | {len(result.opened)} | {len(result.updated)} | "
            f"{len(result.closed)} | {_calls_cell(summary, result.repository)} | "
            f"{_result_cell(result)} |"
        )
    links = [action.url for r in summary.results for action in (*r.opened, *r.updated)]
    if links:
        lines += ["", "Pull requests opened or updated:", ""]
        lines += [f"- {autolink(url)}" for url in links]
    merges = [outcome for r in summary.results for outcome in r.merges]
    if merges:
        lines += ["", "Automerge:", ""]
        lines += [
            f"- {outcome.kind}: {autolink(outcome.url)}: {markdown_text(outcome.reason)}"
            + (" (auto-merge turned off)" if outcome.turned_off else "")
            for outcome in merges
        ]
    return "\n".join(lines) + "\n"


def workflow_warnings(summary: RunSummary) -> list[str]:
    """A `::warning` workflow command for each failure and each warning."""
    out = []
    for result in summary.results:
        if result.failure:
            title = workflow_command(f"pinbot {result.repository} failed", property_value=True)
            out.append(f"::warning title={title}::{workflow_command(str(result.failure))}")
        for problem in result.problems:
            title = workflow_command(f"pinbot {result.repository}", property_value=True)
            out.append(f"::warning title={title}::{workflow_command(str(problem))}")
    return out
