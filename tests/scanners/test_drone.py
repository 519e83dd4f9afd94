"""Drone scanner: step and service images in pipeline documents, and the 0.8 format."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from pinbot.scanners import Status, scan_text
from pinbot.scanners.drone import SCANNER

DRONE = ".drone.yml"


def test_a_substituted_tag_is_templated() -> None:
    outcome = scan_text(DRONE, "kind: pipeline\nsteps:\n- name: a\n  image: golang:${GO}\n")
    assert [(o.kind, o.status) for o in outcome.occurrences] == [("drone", Status.TEMPLATED)]


@given(
    quote=st.sampled_from(["", "'", '"']),
    newline=st.sampled_from(["\n", "\r\n"]),
    indent=st.integers(min_value=0, max_value=4),
    comment=st.sampled_from(["", " # builder"]),
)
def test_span_holds_the_reference(quote: str, newline: str, indent: int, comment: str) -> None:
    pad = " " * indent
    lines = [
        "kind: pipeline",
        "steps:",
        f"{pad}- name: a",
        f"{pad}  image: {quote}maven:3.9{quote}{comment}",
    ]
    text = newline.join(lines) + newline
    assert [text[f.start : f.end] for f in SCANNER.scan(DRONE, text)] == ["maven:3.9"]


