"""GitHub Actions scanner: job containers and services, docker:// steps, Docker actions."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pinbot.scanners import ScanError, Status, scan_text
from pinbot.scanners.github_actions import SCANNER

WORKFLOW = ".github/workflows/ci.yml"


def test_block_value_is_not_rewritable() -> None:
    (finding,) = SCANNER.scan(WORKFLOW, "jobs:\n  a:\n    container: >-\n      node:20\n")
    assert finding.rewritable is False
    assert finding.note is not None


def test_statuses_of_container_service_and_docker_step() -> None:
    text = (
        "jobs:\n  a:\n    container: node:20\n    services:\n      db:\n"
        "        image: postgres:${{ matrix.pg }}\n    steps:\n"
        "      - uses: docker://alpine@sha256:" + "b" * 64 + "\n"
    )
    outcome = scan_text(WORKFLOW, text)
    assert outcome.errors == []
    assert [(o.text, o.status, o.kind, o.line) for o in outcome.occurrences] == [
        ("node:20", Status.UNPINNED, "github-actions", 3),
        ("postgres:${{ matrix.pg }}", Status.TEMPLATED, "github-actions", 6),
        ("alpine@sha256:" + "b" * 64, Status.PINNED, "github-actions", 8),
    ]


def test_yaml_error_names_the_line() -> None:
    with pytest.raises(ScanError) as caught:
        list(SCANNER.scan(WORKFLOW, "jobs:\n  a:\n    container: [node\n  b: {\n"))
    assert caught.value.line is not None


@given(
    quote=st.sampled_from(["", "'", '"']),
    comment=st.sampled_from(["", "  # pinned later", " #x"]),
    newline=st.sampled_from(["\n", "\r\n"]),
    indent=st.integers(min_value=1, max_value=6),
    scheme=st.booleans(),
    reference=st.sampled_from(
        ["node:20", "ghcr.io/acme/ci:1.2-x", "localhost:5000/a/b", "r.io/p@sha256:" + "c" * 64]
    ),
)
def test_span_holds_the_reference(
    quote: str, comment: str, newline: str, indent: int, scheme: bool, reference: str
) -> None:
    pad = " " * indent
    if scheme:
        value = f"{quote}docker://{reference}{quote}"
        lines = ["jobs:", f"{pad}a:", f"{pad * 2}steps:", f"{pad * 2}- uses: {value}{comment}"]
    else:
        value = f"{quote}{reference}{quote}"
        lines = ["jobs:", f"{pad}a:", f"{pad * 2}container:", f"{pad * 3}image: {value}{comment}"]
    text = newline.join(lines) + newline
    findings = list(SCANNER.scan(WORKFLOW, text))
    assert [text[f.start : f.end] for f in findings] == [reference]


