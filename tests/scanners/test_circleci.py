"""CircleCI scanner: docker images of jobs, executors and inline orbs."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from pinbot.scanners import Status, scan_text
from pinbot.scanners.circleci import SCANNER
from tests.scanners.tables.circleci import CASES

CONFIG = ".circleci/config.yml"


def test_parameters_are_templated() -> None:
    outcome = scan_text(CONFIG, CASES[-1][1])
    assert [o.status for o in outcome.occurrences] == [Status.TEMPLATED]
    assert outcome.occurrences[0].rewritable is False


@given(
    quote=st.sampled_from(["", "'", '"']),
    comment=st.sampled_from(["", "  # primary"]),
    newline=st.sampled_from(["\n", "\r\n"]),
    indent=st.integers(min_value=1, max_value=5),
    reference=st.sampled_from(
        ["cimg/go:1.22", "ghcr.io/o/i@sha256:" + "f" * 64, "localhost:5000/x"]
    ),
)
def test_span_holds_the_reference(
    quote: str, comment: str, newline: str, indent: int, reference: str
) -> None:
    pad = " " * indent
    lines = [
        "jobs:",
        f"{pad}a:",
        f"{pad * 2}docker:",
        f"{pad * 2}- image: {quote}{reference}{quote}{comment}",
    ]
    text = newline.join(lines) + newline
    assert [text[f.start : f.end] for f in SCANNER.scan(CONFIG, text)] == [reference]


