"""Automerge's decision table, case by case: no server, no registry, no GitHub."""

from __future__ import annotations

from dataclasses import replace

import pytest

from pinbot.bot.automerge import (
    Candidate,
    MergeDecision,
    Phase,
    Verdict,
    candidates,
    judge,
    judge_before_reading,
)
from pinbot.bot.decide import Branch, LeavePull, LeaveReason, OpenPull, decide
from pinbot.bot.rules import PullSettings
from pinbot.config import Config, GithubConfig, Rule
from pinbot.forge.github import Check, CheckState, PullChecks
from tests.bot.test_decide import FILES, NEW, NEWER, OLD, base_of, edits_for, pull, state_for

PINBOT = "pinbot-bot"
HEAD = "c" * 40
ON = PullSettings(labels=(), reviewers=(), automerge=True)
PASSED = (Check("ci/build", CheckState.PASSED, "status"), Check("test", CheckState.PASSED, "check run"))


def candidate(phase: Phase = Phase.CURRENT, settings: PullSettings = ON, **pulled: object) -> Candidate:
    info = replace(pull(None, head=HEAD), author=PINBOT, **pulled)  # type: ignore[arg-type]
    return Candidate("pinbot/image-digests", info, phase, settings, HEAD)


def checks(
    *found: Check, state: str = "clean", mergeable: bool | None = True, **more: object
) -> PullChecks:
    values: dict[str, object] = {
        "head_sha": HEAD,
        "mergeable": mergeable,
        "mergeable_state": state,
        "auto_merge_by": None,
        "checks": found,
        "changes_requested_by": (),
        **more,
    }
    return PullChecks(**values)  # type: ignore[arg-type]


# --- decided before reading anything --------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "native", "expected"),
    [
        (candidate(Phase.CURRENT), True, None),  # left as it is: its checks are read
        (candidate(Phase.OPENED), True, Verdict.ENABLE),
        (candidate(Phase.OPENED), False, Verdict.WAIT),  # pinbot merges on a later run
        (candidate(Phase.WRITTEN), False, Verdict.WAIT),
        (candidate(Phase.WRITTEN, auto_merge_by=PINBOT), True, Verdict.WAIT),  # on already
        (candidate(Phase.FOREIGN), True, Verdict.REFUSE),
        (candidate(Phase.CURRENT, draft=True), True, Verdict.REFUSE),
    ],
)
def test_what_is_decided_without_reading_checks(
    given: Candidate, native: bool, expected: Verdict | None
) -> None:
    decision = judge_before_reading(given, native)
    assert (decision.verdict if decision else None) is expected


def test_a_person_s_commit_refuses_and_turns_off_the_auto_merge_pinbot_turned_on() -> None:
    decision = judge_before_reading(candidate(Phase.FOREIGN, auto_merge_by=PINBOT), True)
    assert decision == MergeDecision(
        Verdict.REFUSE, "a commit pinbot did not make is on its branch", disable=True
    )
    # Turned on by a person: theirs to keep.
    theirs = judge_before_reading(candidate(Phase.FOREIGN, auto_merge_by="alice"), True)
    assert theirs is not None and not theirs.disable


@pytest.mark.parametrize(
    ("first_pins", "verdict"),
    [((), None), ((True,), None), ((False,), Verdict.REFUSE), ((True, False), Verdict.REFUSE)],
)
def test_a_first_pin_needs_its_rule_s_permission(
    first_pins: tuple[bool, ...], verdict: Verdict | None
) -> None:
    settings = replace(ON, first_pins=first_pins)
    decision = judge_before_reading(candidate(settings=settings), True)
    assert (decision.verdict if decision else None) is verdict
    if decision is not None:
        assert "automerge-first-pin" in decision.reason


def test_automerge_turned_off_by_a_rule_turns_pinbot_s_auto_merge_off() -> None:
    off = replace(ON, automerge=False)
    decision = judge_before_reading(candidate(settings=off, auto_merge_by=PINBOT), True)
    assert decision is not None and decision.verdict is Verdict.REFUSE and decision.disable


# --- decided from what GitHub says --------------------------------------------------------------


@pytest.mark.parametrize(
    ("said", "native", "verdict", "reason"),
    [
        (checks(*PASSED), False, Verdict.MERGE, "all 2 statuses and checks on its head passed"),
        (checks(*PASSED), True, Verdict.MERGE, "all 2 statuses and checks on its head passed"),
        (checks(*PASSED, state="has_hooks"), False, Verdict.MERGE, None),
        (
            checks(Check("ci/build", CheckState.FAILED, "status"), *PASSED[1:]),
            True,
            Verdict.REFUSE,
            "failed: ci/build",
        ),
        (
            checks(Check("test", CheckState.PENDING, "check run"), state="unstable"),
            False,
            Verdict.WAIT,
            "pending: test",
        ),
        (
            checks(Check("test", CheckState.PENDING, "check run"), state="blocked"),
            True,
            Verdict.ENABLE,
            None,
        ),
        # Pending but not required: GitHub's auto-merge would not wait; pinbot does.
        (
            checks(Check("test", CheckState.PENDING, "check run"), state="unstable"),
            True,
            Verdict.WAIT,
            "pending: test",
        ),
        (checks(state="clean"), False, Verdict.WAIT, "no status or check has reported on its head yet"),
        (checks(state="blocked"), True, Verdict.ENABLE, None),  # required checks not started
        (checks(*PASSED, mergeable=None, state="unknown"), False, Verdict.WAIT, None),
        (checks(*PASSED, mergeable=False, state="dirty"), True, Verdict.REFUSE, None),
        (checks(*PASSED, state="blocked"), False, Verdict.WAIT, None),  # a review required
        (checks(*PASSED, state="blocked"), True, Verdict.ENABLE, None),
        (checks(*PASSED, state="behind"), True, Verdict.WAIT, None),
        (checks(*PASSED, state="draft"), True, Verdict.REFUSE, "it is a draft"),
        (checks(*PASSED, changes_requested_by=("alice",)), True, Verdict.REFUSE, "changes requested by alice"),
        (checks(*PASSED, head_sha="d" * 40), True, Verdict.REFUSE, "a commit pinbot did not make is on its branch"),
        (checks(*PASSED, auto_merge_by=PINBOT, state="blocked"), True, Verdict.WAIT, None),
    ],
)
def test_judged_from_what_github_says(
    said: PullChecks, native: bool, verdict: Verdict, reason: str | None
) -> None:
    decision = judge(candidate(), said, native)
    assert decision.verdict is verdict, decision
    if reason is not None:
        assert decision.reason == reason


def test_a_failed_check_or_a_request_for_changes_turns_pinbot_s_auto_merge_off() -> None:
    failing = (Check("deploy-preview", CheckState.FAILED, "check run"),)
    for said in (
        checks(*failing, state="unstable", auto_merge_by=PINBOT),
        checks(*PASSED, changes_requested_by=("alice", "bob"), auto_merge_by=PINBOT),
    ):
        decision = judge(candidate(), said, True)
        assert decision.verdict is Verdict.REFUSE and decision.disable
    # A person's auto-merge is theirs: refused, but left on.
    assert not judge(candidate(), checks(*failing, auto_merge_by="alice"), True).disable


def test_long_lists_of_names_are_cut() -> None:
    many = tuple(Check(f"job{i}", CheckState.FAILED, "check run") for i in range(5))
    assert judge(candidate(), checks(*many), True).reason == "failed: job0, job1, job2 and 2 more"


# --- which pull requests automerge concerns -------------------------------------------------------


def test_candidates_are_the_pull_requests_under_automerge_and_those_pinbot_turned_on() -> None:
    edits = edits_for(FILES, NEW)
    up_to_date = pull(state_for(edits, commit=HEAD), head=HEAD)
    up_to_date = replace(up_to_date, author=PINBOT)
    [leave] = decide([Branch("pinbot/image-digests", edits, (up_to_date,))], base_of(), 10).decisions
    assert isinstance(leave, LeavePull) and leave.reason is LeaveReason.UP_TO_DATE
    on = Config(github=GithubConfig(automerge=True))
    [found] = candidates([leave], {}, on)
    assert found.phase is Phase.CURRENT and found.commit == HEAD and found.settings.automerge
    assert candidates([leave], {}, Config()) == []
    # Off now, but pinbot turned GitHub's auto-merge on before: it is judged, to turn it off.
    turned_on = replace(leave, pull=replace(up_to_date, auto_merge_by=PINBOT))
    [again] = candidates([turned_on], {}, Config())
    assert judge_before_reading(again, True) == MergeDecision(
        Verdict.REFUSE, "automerge is off for what it updates now", disable=True
    )


def test_a_pull_request_written_by_this_run_is_judged_at_its_new_head() -> None:
    pinned = {path: data.replace(b":1.0\n", f":1.0@{OLD}\n".encode()) for path, data in FILES.items()}
    edits = edits_for(pinned, NEWER)
    [opened] = decide([Branch("pinbot/image-digests", edits)], base_of(pinned), 10).decisions
    assert isinstance(opened, OpenPull)
    rule = Rule(images=("registry.test/*",), automerge=True)
    written = {"pinbot/image-digests": replace(pull(None, head=HEAD), author=PINBOT)}
    [found] = candidates([opened], written, Config(rules=(rule,)))
    assert found.phase is Phase.OPENED and found.commit == HEAD
    assert not found.settings.has_first_pins  # bumps, not first pins
    assert candidates([opened], {}, Config(rules=(rule,))) == []  # a dry run opened nothing
