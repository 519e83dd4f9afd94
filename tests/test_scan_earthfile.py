"""Earthfile scanner: FROM images, ARG defaults behind FROM $ARG, WITH DOCKER --pull."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pinbot.scanners import Status, scan_text
from pinbot.scanners.earthfile import SCANNER
from tests.support.roundtrip import pin_file

EARTHFILE = "Earthfile"
NEW = "sha256:" + "a" * 64


def found(text: str) -> list[tuple[str, str]]:
    return [(text[f.start : f.end], f.context) for f in SCANNER.scan(EARTHFILE, text)]


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("Earthfile", True),
        ("services/api/Earthfile", True),
        ("Earthfile.md", False),
        ("earthfile", False),
    ],
)
def test_matches(path: str, expected: bool) -> None:
    assert SCANNER.matches(path) is expected


CASES: list[tuple[str, str, list[tuple[str, str]]]] = [
    (
        "base recipe and targets, flags skipped, quotes excluded",
        "VERSION 0.8\nFROM golang:1.22-alpine\nWORKDIR /src\n\nbuild:\n"
        '    FROM --platform=linux/amd64 "alpine:3.20"\n    RUN echo hi  # FROM x:1\n\n'
        "test:\n    FROM +build\n    WITH DOCKER --pull postgres:16 --pull=redis:7\n"
        "        RUN go test ./...\n    END\n",
        [
            ("golang:1.22-alpine", "FROM"),
            ("alpine:3.20", "FROM"),
            ("postgres:16", "WITH DOCKER --pull"),
            ("redis:7", "WITH DOCKER --pull"),
        ],
    ),
    (
        "FROM $ARG reports the default; one used elsewhere is kept",
        "VERSION 0.8\nARG --global BASE=ubuntu:24.04\nARG GO_IMAGE = golang:1.22\n"
        "build:\n    FROM $GO_IMAGE\n    RUN go build\n"
        "run:\n    FROM ${BASE}\n    RUN echo $BASE\n",
        [
            ("ubuntu:24.04", "ARG BASE (used by FROM line 8)"),
            ("golang:1.22", "ARG GO_IMAGE (used by FROM line 5)"),
        ],
    ),
]

TRAPS: list[tuple[str, str]] = [
    (
        "targets, remote targets, imports and Dockerfiles",
        "VERSION 0.8\nIMPORT github.com/earthly/lib/utils:3.0.1 AS utils\n"
        "a:\n    FROM +base\nb:\n    FROM ./services/api+build\n"
        "c:\n    FROM github.com/acme/repo:main+image\nd:\n    FROM utils+go\n"
        "e:\n    FROM DOCKERFILE -f Dockerfile.ci .\n",
    ),
    (
        "outputs, builds, copies and comments",
        "VERSION 0.8\n# FROM alpine:3\nimg:\n    FROM scratch-less+x\n"
        "    SAVE IMAGE --push ghcr.io/acme/app:latest\n    BUILD +test\n"
        "    COPY +build/app ./\n    RUN docker run alpine:3\n",
    ),
    (
        "an ARG inside a target is not global",
        "a:\n    ARG IMG=alpine:3\n    FROM +x\nb:\n    FROM +y\n",
    ),
    ("empty", ""),
]


@pytest.mark.parametrize(("name", "text", "expected"), CASES, ids=[c[0] for c in CASES])
def test_finds(name: str, text: str, expected: list[tuple[str, str]]) -> None:
    assert found(text) == expected


@pytest.mark.parametrize(("name", "text"), TRAPS, ids=[t[0] for t in TRAPS])
def test_traps(name: str, text: str) -> None:
    assert found(text) == []


def test_statuses() -> None:
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
