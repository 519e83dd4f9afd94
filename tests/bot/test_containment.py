"""Containment: whatever goes wrong while handling one repository is that repository's failure."""

from __future__ import annotations

from pinbot.bot.result import RepositoryResult
from pinbot.bot.run import contained
from pinbot.errors import ProblemKind
from pinbot.forge.github import ApiCalls, ForgeError


def test_an_unexpected_exception_becomes_the_repository_s_failure_with_its_reason() -> None:
    failures: list[RepositoryResult] = []
    with contained("acme/web", failures):
        raise RuntimeError("a bug")
    [result] = failures
    assert result.repository == "acme/web" and result.failure is not None
    assert result.failure.kind is ProblemKind.REPOSITORY_FAILED
    assert result.failure.message == "acme/web: unexpected RuntimeError: a bug"


def test_pinbot_s_own_error_is_the_reason_as_it_says_it() -> None:
    failures: list[RepositoryResult] = []
    calls = ApiCalls()
    with contained("acme/api", failures, calls):
        calls.request()
        raise ForgeError("acme/api", "reading the repository", "HTTP 404: Not Found", 404)
    assert [str(r.failure) for r in failures] == [
        "acme/api: reading the repository: HTTP 404: Not Found"
    ]
    assert calls.requests["acme/api"] == 1  # counted against the repository, not the run


def test_nothing_is_recorded_when_the_block_succeeds() -> None:
    failures: list[RepositoryResult] = []
    with contained("acme/web", failures):
        pass
    assert failures == []
