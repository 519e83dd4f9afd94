"""The policy `pinbot check` applies, without I/O: the rules a reference breaks, and which pinned
references stay unchecked because the registry did not answer for them."""

from __future__ import annotations

import pytest

from pinbot.config import PolicyConfig
from pinbot.plan import Lookup
from pinbot.policy import evaluate, unchecked
from pinbot.scanners import Occurrence, scan_text

DIGEST = "sha256:" + "c" * 64


def rules_for(dockerfile: str, policy: PolicyConfig) -> list[tuple[int, str]]:
    occurrences = scan_text("Dockerfile", dockerfile).occurrences
    return [(v.occurrence.line, v.rule.value) for v in evaluate(occurrences, policy)]


@pytest.mark.parametrize(
    ("dockerfile", "policy", "expected"),
    [
        (f"FROM nginx:1.27@{DIGEST}\n", PolicyConfig(), []),
        ("FROM nginx:1.27\n", PolicyConfig(), [(1, "unpinned")]),
        ("FROM nginx\n", PolicyConfig(), [(1, "unpinned"), (1, "latest-tag")]),
        ("FROM nginx:latest\n", PolicyConfig(require_pinned=False), [(1, "latest-tag")]),
        (f"FROM nginx@{DIGEST}\n", PolicyConfig(), []),
        ("FROM nginx\n", PolicyConfig(require_pinned=False, forbid_latest=False), []),
        (
            f"FROM quay.io/x/y:1@{DIGEST}\nFROM ghcr.io/a/b:2@{DIGEST}\n",
            PolicyConfig(allowed_registries=("ghcr.io", "*.example.com")),
            [(1, "registry-not-allowed")],
        ),
        (
            f"FROM nginx:1@{DIGEST}\n",
            PolicyConfig(allowed_registries=("ghcr.io",)),
            [(1, "registry-not-allowed")],
        ),
        ("ARG V\nFROM nginx:${V}\n", PolicyConfig(), []),  # templated: nothing to judge
    ],
)
def test_each_rule_flags_the_line_that_breaks_it_and_templated_images_are_not_judged(
    dockerfile: str, policy: PolicyConfig, expected: list[tuple[int, str]]
) -> None:
    assert rules_for(dockerfile, policy) == expected


def _pinned(text: str) -> list[Occurrence]:
    return scan_text("Dockerfile", text).occurrences


@pytest.mark.parametrize(
    ("lookups", "expected"),
    [
        # The tag resolved: drift is compared, nothing is left unchecked.
        ({"docker.io/library/nginx:1.27": Lookup(DIGEST)}, []),
        # The tag did not resolve, but the registry said the digest exists (or not).
        (
            {
                "docker.io/library/nginx:1.27": Lookup(error="tag not found"),
                f"docker.io/library/nginx@{DIGEST}": Lookup(DIGEST),
            },
            [],
        ),
        # Neither answered: unchecked, with the registry's reason.
        (
            {"docker.io/library/nginx:1.27": Lookup(error="connection refused")},
            [(1, "lookup-failed", "connection refused")],
        ),
        ({}, [(1, "lookup-failed", None)]),
    ],
)
def test_a_pinned_reference_the_registry_did_not_answer_for_is_unchecked(
    lookups: dict[str, Lookup], expected: list[tuple[int, str, str | None]]
) -> None:
    occurrences = _pinned(f"FROM nginx:1.27@{DIGEST}\n")
    problems = unchecked(occurrences, lookups)
    assert [(p.line, p.kind.value) for p in problems] == [(line, rule) for line, rule, _ in expected]
    for problem, (_, _, why) in zip(problems, expected, strict=True):
        assert problem.file == "Dockerfile" and problem.column == 6
        assert why is None or why in problem.message


def test_a_digest_without_a_tag_is_settled_only_by_an_existence_answer() -> None:
    occurrences = _pinned(f"FROM nginx@{DIGEST}\n")
    assert [p.kind.value for p in unchecked(occurrences, {})] == ["lookup-failed"]
    answered = {f"docker.io/library/nginx@{DIGEST}": Lookup(error="gone")}
    assert unchecked(occurrences, answered) == []


def test_an_image_a_compose_service_builds_is_not_judged() -> None:
    compose = (
        "services:\n"
        "  app:\n    build: .\n    image: acme/app:latest\n"
        f"  tool:\n    build: ./tool\n    image: acme/tool@{DIGEST}\n"
        "  db:\n    image: postgres\n"
    )
    occurrences = scan_text("compose.yaml", compose).occurrences
    assert [o.built_here for o in occurrences] == [True, True, False]
    violations = evaluate(occurrences, PolicyConfig())
    assert [(v.occurrence.line, v.rule.value) for v in violations] == [
        (9, "unpinned"),
        (9, "latest-tag"),
    ]
    assert unchecked(occurrences, {}) == []
