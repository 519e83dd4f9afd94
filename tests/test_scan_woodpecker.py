"""Woodpecker scanner: step, service and clone images, lists and maps of steps."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pinbot.scanners import Status, scan_text
from pinbot.scanners.woodpecker import SCANNER
from tests.support.roundtrip import pin_file

WORKFLOW = ".woodpecker.yaml"
NEW = "sha256:" + "a" * 64


def found(text: str) -> list[tuple[str, str]]:
    return [(text[f.start : f.end], f.context) for f in SCANNER.scan(WORKFLOW, text)]


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        (".woodpecker.yml", True),
        (".woodpecker.yaml", True),
        ("org__repo/.woodpecker.yml", True),
        (".woodpecker/test.yaml", True),
        (".woodpecker/release.yml", True),
        (".woodpecker/README.md", False),
        ("woodpecker.yml", False),
        (".drone.yml", False),
    ],
)
def test_matches(path: str, expected: bool) -> None:
    assert SCANNER.matches(path) is expected


CASES: list[tuple[str, str, list[tuple[str, str]]]] = [
    (
        "steps as a list, services as a list",
        "steps:\n  - name: test\n    image: golang:1.22\n    commands: [go test ./...]\n"
        "services:\n  - name: db\n    image: 'postgres:16'\n",
        [("golang:1.22", "steps[0].image"), ("postgres:16", "services[0].image")],
    ),
    (
        "steps and services as maps, a custom clone step",
        "clone:\n  git:\n    image: woodpeckerci/plugin-git:2.5\n    settings: {depth: 50}\n"
        "steps:\n  build:\n    image: node:20\n  publish:\n"
        "    image: woodpeckerci/plugin-docker-buildx:4\n    settings:\n      repo: acme/app\n"
        "      tags: latest\nservices:\n  cache:\n    image: redis:7\n",
        [
            ("woodpeckerci/plugin-git:2.5", "clone.git.image"),
            ("node:20", "steps.build.image"),
            ("woodpeckerci/plugin-docker-buildx:4", "steps.publish.image"),
            ("redis:7", "services.cache.image"),
        ],
    ),
    (
        "legacy pipeline map",
        "pipeline:\n  build:\n    image: debian:12\n",
        [("debian:12", "pipeline.build.image")],
    ),
]

TRAPS: list[tuple[str, str]] = [
    (
        "plugin settings, commands and step names",
        "steps:\n  - name: alpine\n    image: ''\n    commands:\n      - docker run alpine:3\n"
        "    settings:\n      image: acme/app:1\n      repo: acme/app\n",
    ),
    ("matrix values", "matrix:\n  IMAGE:\n    - golang:1.21\n    - golang:1.22\nsteps: []\n"),
    (
        "workspace, labels and when",
        "workspace:\n  base: /go\nlabels:\n  platform: linux/amd64\nwhen:\n  event: push\n",
    ),
    ("odd shapes", "steps: 3\nservices: x\n---\n- image: x\n---\nsteps:\n- [a]\n- image: [b]\n"),
]


@pytest.mark.parametrize(("name", "text", "expected"), CASES, ids=[c[0] for c in CASES])
def test_finds(name: str, text: str, expected: list[tuple[str, str]]) -> None:
    assert found(text) == expected


@pytest.mark.parametrize(("name", "text"), TRAPS, ids=[t[0] for t in TRAPS])
def test_traps(name: str, text: str) -> None:
    assert found(text) == []


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
