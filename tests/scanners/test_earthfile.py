"""Earthfile scanner: FROM images, ARG defaults behind FROM $ARG, WITH DOCKER --pull."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from pinbot.scanners import Status, scan_text
from pinbot.scanners.earthfile import SCANNER
from tests.support.roundtrip import pin_file

EARTHFILE = "Earthfile"
NEW = "sha256:" + "a" * 64


def test_global_args_feed_from_lines_and_unknown_ones_are_templated() -> None:
    text = (
        "VERSION 0.8\nARG --global TAG=3.20\nARG --global BASE=alpine:3.20\n"
        "a:\n    FROM alpine:$TAG\nb:\n    FROM $BASE\n    RUN echo ${BASE}\nc:\n    FROM $UNKNOWN\n"
        f"d:\n    FROM nginx:1.27@{NEW}\n"
    )
    outcome = scan_text(EARTHFILE, text)
    assert [(o.kind, o.text, o.status, o.rewritable) for o in outcome.occurrences] == [
        ("earthfile", "alpine:3.20", Status.UNPINNED, False),
        ("earthfile", "alpine:$TAG", Status.TEMPLATED, False),
        ("earthfile", "$UNKNOWN", Status.TEMPLATED, False),
        ("earthfile", f"nginx:1.27@{NEW}", Status.PINNED, True),
    ]


@given(
    newline=st.sampled_from(["\n", "\r\n"]),
    indent=st.sampled_from(["    ", "\t", "  "]),
    quote=st.sampled_from(["", '"']),
    comment=st.sampled_from(["", "  # base"]),
)
def test_span_holds_the_reference(newline: str, indent: str, quote: str, comment: str) -> None:
    lines = ["VERSION 0.8", "build:", f"{indent}FROM {quote}maven:3.9{quote}{comment}"]
    text = newline.join(lines) + newline
    assert [text[f.start : f.end] for f in SCANNER.scan(EARTHFILE, text)] == ["maven:3.9"]


def test_pin_round_trip_keeps_crlf() -> None:
    data = (
        b"VERSION 0.8\r\nARG --global BASE=alpine:3.20\r\nFROM golang:1.22\r\n"
        b"img:\r\n    FROM $BASE\r\n    SAVE IMAGE acme/app:1\r\n"
        b"it:\r\n    FROM +img\r\n    WITH DOCKER --pull redis:7\r\n        RUN true\r\n    END"
    )
    digests = {
        "docker.io/library/alpine:3.20": NEW,
        "docker.io/library/golang:1.22": NEW,
        "docker.io/library/redis:7": NEW,
    }
    updated, result = pin_file(EARTHFILE, data, digests)
    assert (
        updated
        == (
            f"VERSION 0.8\r\nARG --global BASE=alpine:3.20@{NEW}\r\nFROM golang:1.22@{NEW}\r\n"
            "img:\r\n    FROM $BASE\r\n    SAVE IMAGE acme/app:1\r\n"
            f"it:\r\n    FROM +img\r\n    WITH DOCKER --pull redis:7@{NEW}\r\n        RUN true\r\n    END"
        ).encode()
    )
    assert len(result.edits) == 3
    assert pin_file(EARTHFILE, updated, digests)[0] == updated
