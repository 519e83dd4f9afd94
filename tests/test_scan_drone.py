"""Drone scanner: step and service images in pipeline documents, and the 0.8 format."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pinbot.scanners import Status, scan_text
from pinbot.scanners.drone import SCANNER
from tests.support.corpus import scan_corpus_file

DRONE = ".drone.yml"


def found(text: str) -> list[tuple[str, str]]:
    return [(text[f.start : f.end], f.context) for f in SCANNER.scan(DRONE, text)]


@pytest.mark.parametrize(
    ("path", "expected"), [(".drone.yml", True), ("a__b/.drone.yaml", True), ("drone.yml", False)]
)
def test_matches(path: str, expected: bool) -> None:
    assert SCANNER.matches(path) is expected


CASES: list[tuple[str, str, list[tuple[str, str]]]] = [
    (
        "steps and services across documents",
        "kind: pipeline\ntype: docker\nname: test\nsteps:\n- name: build\n  image: golang:1.22\n"
        "  commands: [go test]\nservices:\n- name: db\n  image: 'postgres:16'\n"
        '---\nkind: pipeline\nname: deploy\nsteps:\n- name: push\n  image: "plugins/docker:20"\n',
        [
            ("golang:1.22", "test: steps[0].image"),
            ("postgres:16", "test: services[0].image"),
            ("plugins/docker:20", "deploy: steps[0].image"),
        ],
    ),
    (
        "legacy 0.8 maps",
        "pipeline:\n  build:\n    image: node:8\n    commands: [npm test]\nservices:\n  cache:\n    image: redis:4\n",
        [("node:8", "pipeline.build.image"), ("redis:4", "services.cache.image")],
    ),
]

TRAPS: list[tuple[str, str]] = [
    ("secret documents", "kind: secret\nname: token\nget:\n  path: s\n  name: image\n"),
    (
        "step names and commands",
        "kind: pipeline\nsteps:\n- name: alpine\n  commands:\n  - docker run alpine:3\n",
    ),
    ("odd shapes", "steps: 3\n---\n- image: x\n---\nsteps:\n- [a]\n- image: [b]\n"),
]


@pytest.mark.parametrize(("name", "text", "expected"), CASES, ids=[c[0] for c in CASES])
def test_finds(name: str, text: str, expected: list[tuple[str, str]]) -> None:
    assert found(text) == expected


@pytest.mark.parametrize(("name", "text"), TRAPS, ids=[t[0] for t in TRAPS])
def test_traps(name: str, text: str) -> None:
    assert found(text) == []


def test_templated_step() -> None:
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


# Read: two pipeline documents, one step each, both `maven:3.6.3-jdk-11`.
CORPUS = {"4Science__DSpace/.drone.yml": 2}


@pytest.mark.corpus
@pytest.mark.parametrize(("relative", "count"), sorted(CORPUS.items()))
def test_corpus(relative: str, count: int) -> None:
    assert len([o for o in scan_corpus_file(relative) if o.kind == "drone"]) == count
