"""Woodpecker scanner: step, service and clone images, lists and maps of steps."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from pinbot.scanners import Status, scan_text
from pinbot.scanners.woodpecker import SCANNER
from tests.support.roundtrip import pin_file

WORKFLOW = ".woodpecker.yaml"
NEW = "sha256:" + "a" * 64


def test_an_image_shared_through_an_anchor_is_reported_once() -> None:
    text = (
        "variables:\n  - &go 'golang:1.22'\nsteps:\n  - name: a\n    image: *go\n"
        "  - name: b\n    image: *go\n"
    )
    (finding,) = SCANNER.scan(WORKFLOW, text)
    assert finding.context == "steps[0].image"
    # The anchor is written before the value; the span is the value alone, so it is spliced.
    assert text[finding.start : finding.end] == "golang:1.22" and finding.rewritable


def test_matrix_substitution_is_templated() -> None:
    text = "matrix:\n  GO: ['1.21', '1.22']\nsteps:\n  - name: a\n    image: golang:${GO}\n"
    outcome = scan_text(WORKFLOW, text)
    assert [(o.kind, o.text, o.status) for o in outcome.occurrences] == [
        ("woodpecker", "golang:${GO}", Status.TEMPLATED)
    ]


@given(
    quote=st.sampled_from(["", "'", '"']),
    newline=st.sampled_from(["\n", "\r\n"]),
    as_map=st.booleans(),
    comment=st.sampled_from(["", " # builder"]),
)
def test_span_holds_the_reference(quote: str, newline: str, as_map: bool, comment: str) -> None:
    step = "  build:" if as_map else "  - name: build"
    lines = ["steps:", step, f"    image: {quote}maven:3.9{quote}{comment}"]
    text = newline.join(lines) + newline
    assert [text[f.start : f.end] for f in SCANNER.scan(WORKFLOW, text)] == ["maven:3.9"]


def test_pin_round_trip_keeps_crlf_and_quotes() -> None:
    data = (
        b'steps:\r\n  - name: test\r\n    image: "golang:1.22"  # go\r\n'
        b"services:\r\n  db:\r\n    image: postgres:16\r\n"
    )
    digests = {"docker.io/library/golang:1.22": NEW, "docker.io/library/postgres:16": NEW}
    updated, result = pin_file(WORKFLOW, data, digests)
    assert (
        updated
        == (
            f'steps:\r\n  - name: test\r\n    image: "golang:1.22@{NEW}"  # go\r\n'
            f"services:\r\n  db:\r\n    image: postgres:16@{NEW}\r\n"
        ).encode()
    )
    assert len(result.edits) == 2
    assert pin_file(WORKFLOW, updated, digests)[0] == updated
