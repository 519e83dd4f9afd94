"""The run summary renderers: what a person or the Actions runner sees of outside strings."""

from __future__ import annotations

import cmarkgfm

from pinbot.bot.result import PullAction, PullActionKind, RepositoryResult
from pinbot.bot.run import RunSummary
from pinbot.errors import Problem, ProblemKind
from pinbot.report import run_summary

HOSTILE = "deploy/x\n::error file=a::forged\r\x1b[31m <img src=x> @octocat [click](https://evil) |"


def failure(reason: str) -> Problem:
    return Problem(ProblemKind.REPOSITORY_FAILED, reason)


def warning(message: str) -> Problem:
    return Problem(ProblemKind.WARNING, message)


def summary_with(result: RepositoryResult) -> RunSummary:
    return RunSummary(results=[result], unique_tags=3, seconds=1.5)


def test_text_keeps_one_line_per_record_and_no_control_character() -> None:
    result = RepositoryResult("acme/web", failure=failure(HOSTILE), problems=[warning(HOSTILE)])
    lines = run_summary.text(summary_with(result)).splitlines()
    assert lines[1] == "acme/web: FAILED; 0 API calls (0 writes)"
    assert len(lines) == 4  # headline, repository, its warning, its failure
    for line in lines:
        assert not any(ord(char) < 0x20 for char in line)
        assert not line.startswith("::")
    assert lines[2].startswith("  warning: deploy/x\\n::error file=a::forged\\r\\x1b[31m")


def test_markdown_shows_outside_strings_as_text_and_links_only_pull_requests() -> None:
    result = RepositoryResult(
        "acme/web",
        actions=[
            PullAction(PullActionKind.OPENED, 1, "https://github.test/acme/web/pull/1", "b"),
            PullAction(PullActionKind.OPENED, 2, "javascript:alert(1)", "b"),
        ],
        failure=failure(HOSTILE),
    )
    html = cmarkgfm.github_flavored_markdown_to_html(
        run_summary.markdown(summary_with(result)), options=cmarkgfm.Options.CMARK_OPT_UNSAFE
    )
    assert "<img" not in html and "<a href=\"https://evil" not in html
    assert "@octocat" not in html.replace("@\u200boctocat", "")  # a mention is broken
    assert html.count("<tr>") == 2  # the header and one repository: the `|` stayed in its cell
    assert '<a href="https://github.test/acme/web/pull/1">' in html
    assert 'href="javascript' not in html


def test_workflow_warnings_cannot_start_another_command() -> None:
    result = RepositoryResult(
        "acme/web", failure=failure(HOSTILE), problems=[warning("a\n::stop-commands::x")]
    )
    lines = run_summary.workflow_warnings(summary_with(result))
    assert len(lines) == 2
    for line in lines:
        assert "\n" not in line and "\r" not in line
        assert line.startswith("::warning title=pinbot acme/web")
    # The runner reads a command only at the start of a line: the rest is one escaped message.
    assert "%0A::error file=a::forged%0D" in lines[0]
    assert lines[1].endswith("::a%0A::stop-commands::x")


def test_progress_line_says_what_a_repository_run_did_in_one_line() -> None:
    updated = RepositoryResult(
        "acme/web",
        actions=[PullAction(PullActionKind.UPDATED, 3, "https://github.test/acme/web/pull/3", "b")],
        references=12,
    )
    assert run_summary.progress_line(updated, 4) == "acme/web: 1 PR updated, 12 references, 4 calls"
    quiet = RepositoryResult("acme/api", references=1)
    assert run_summary.progress_line(quiet, 1) == "acme/api: 1 reference, 1 call"
    lookups = RepositoryResult(
        "acme/db",
        references=2,
        problems=[Problem(ProblemKind.LOOKUP_FAILED, "down")] * 2 + [warning("a warning")],
    )
    assert run_summary.progress_line(lookups, 3) == (
        "acme/db: 2 references, 2 references whose lookup failed, 3 calls"
    )
    failed = RepositoryResult("acme/gone", failure=failure("acme/gone: reading: HTTP 404"))
    assert run_summary.progress_line(failed, 1) == "acme/gone: FAILED: reading: HTTP 404"
