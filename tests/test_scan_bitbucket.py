"""Bitbucket Pipelines scanner: build image, step images, service definitions, docker:// pipes."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pinbot.scanners import Status, scan_text
from pinbot.scanners.bitbucket import SCANNER
from tests.support.corpus import scan_corpus_file

PIPELINES = "bitbucket-pipelines.yml"


def found(text: str) -> list[tuple[str, str]]:
    return [(text[f.start : f.end], f.context) for f in SCANNER.scan(PIPELINES, text)]


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("bitbucket-pipelines.yml", True),
        ("x__y/bitbucket-pipelines.yaml", True),
        ("pipelines.yml", False),
    ],
)
def test_matches(path: str, expected: bool) -> None:
    assert SCANNER.matches(path) is expected


CASES: list[tuple[str, str, list[tuple[str, str]]]] = [
    (
        "build image as a string and step images in branches, parallel groups and stages",
        "image: node:20\npipelines:\n  default:\n    - step:\n        image: 'python:3.12'\n"
        "        script: [pytest]\n    - parallel:\n        steps:\n          - step:\n"
        "              image: golang:1.22\n              script: [go test]\n"
        "  branches:\n    main:\n      - stage:\n          steps:\n            - step:\n"
        '                image: "rust:1.77"\n                script: [cargo test]\n',
        [
            ("node:20", "image"),
            ("python:3.12", "pipelines.default[0].step.image"),
            ("golang:1.22", "pipelines.default[1].parallel.steps[0].step.image"),
            ("rust:1.77", "pipelines.branches.main[0].stage.steps[0].step.image"),
        ],
    ),
    (
        "image maps with credentials, service definitions",
        "image:\n  name: acme.jfrog.io/ci/build:7\n  username: $USER\n  password: $PASS\n"
        "definitions:\n  services:\n    postgres:\n      image: postgres:16\n      variables: {POSTGRES_DB: t}\n"
        "    redis:\n      image:\n        name: redis:7\n    docker:\n      memory: 2048\n",
        [
            ("acme.jfrog.io/ci/build:7", "image.name"),
            ("postgres:16", "definitions.services.postgres.image"),
            ("redis:7", "definitions.services.redis.image.name"),
        ],
    ),
    (
        "anchored step definitions are found once, where defined",
        "definitions:\n  steps:\n    - step: &deploy\n        name: Deploy\n        image: alpine/git:latest\n"
        "        script: [git push]\npipelines:\n  default:\n    - step: *deploy\n  custom:\n"
        "    again:\n      - step: *deploy\n",
        [("alpine/git:latest", "definitions.steps[0].step.image")],
    ),
    (
        "docker:// pipes: the span excludes the scheme",
        "pipelines:\n  default:\n    - step:\n        script:\n          - pipe: atlassian/aws-ecr-push-image:2.5.0\n"
        "          - pipe: docker://acme/my-pipe:1.0\n            variables: {A: b}\n"
        "        after-script:\n          - pipe: 'docker://acme/notify:2'\n",
        [
            ("acme/my-pipe:1.0", "pipelines.default[0].step.script[1].pipe"),
            ("acme/notify:2", "pipelines.default[0].step.after-script[0].pipe"),
        ],
    ),
]

TRAPS: list[tuple[str, str]] = [
    (
        "service names in steps",
        "pipelines:\n  default:\n    - step:\n        services: [docker, postgres]\n        script: [x]\n",
    ),
    (
        "Bitbucket pipes are not images",
        "pipelines:\n  default:\n    - step:\n        script:\n          - pipe: atlassian/slack-notify:2.0.0\n",
    ),
    (
        "runner labels, caches, clone",
        "clone:\n  depth: 2\ndefinitions:\n  caches:\n    m2: ~/.m2\npipelines:\n  default:\n    - step:\n        runs-on: [self.hosted, linux]\n        script: [x]\n",
    ),
    (
        "odd shapes",
        "image: [a]\n---\n- step: {image: x}\n---\npipelines:\n  default:\n    - step: 3\n    - step:\n        image: {}\n",
    ),
    (
        "comments and scripts",
        "pipelines:\n  default:\n    - step:\n        # image: node:20\n        script:\n          - docker run node:20\n",
    ),
]


@pytest.mark.parametrize(("name", "text", "expected"), CASES, ids=[c[0] for c in CASES])
def test_finds(name: str, text: str, expected: list[tuple[str, str]]) -> None:
    assert found(text) == expected


@pytest.mark.parametrize(("name", "text"), TRAPS, ids=[t[0] for t in TRAPS])
def test_traps(name: str, text: str) -> None:
    assert found(text) == []


def test_statuses() -> None:
    text = "image: node:20\npipelines:\n  default:\n    - step:\n        image: acme/ci:${TAG}\n        script: [x]\n"
    outcome = scan_text(PIPELINES, text)
    assert [(o.kind, o.status) for o in outcome.occurrences] == [
        ("bitbucket-pipelines", Status.UNPINNED),
        ("bitbucket-pipelines", Status.TEMPLATED),
    ]


@given(
    quote=st.sampled_from(["", "'", '"']),
    comment=st.sampled_from(["", "  # Default image"]),
    newline=st.sampled_from(["\n", "\r\n"]),
    indent=st.integers(min_value=1, max_value=5),
    reference=st.sampled_from(["atlassian/default-image:4", "r.io/a/b@sha256:" + "1" * 64]),
)
def test_span_holds_the_reference(
    quote: str, comment: str, newline: str, indent: int, reference: str
) -> None:
    pad = " " * indent
    lines = [
        "pipelines:",
        f"{pad}default:",
        f"{pad * 2}- step:",
        f"{pad * 2}    image: {quote}{reference}{quote}{comment}",
        f"{pad * 2}    script: [x]",
    ]
    text = newline.join(lines) + newline
    assert [text[f.start : f.end] for f in SCANNER.scan(PIPELINES, text)] == [reference]


# Read: the build image on line 1, and the `image:` of 10 anchored step definitions
# (build-and-push ×3 atlassian/default-image, 6 deploy/turn-on alpine/git, 1 alpine); the
# pipelines only alias those steps, and `pipe: atlassian/aws-ecr-push-image` is a pipe.
CORPUS = {"4Science__DSpace/bitbucket-pipelines.yml": 11}


@pytest.mark.corpus
@pytest.mark.parametrize(("relative", "count"), sorted(CORPUS.items()))
def test_corpus(relative: str, count: int) -> None:
    assert len([o for o in scan_corpus_file(relative) if o.kind == "bitbucket-pipelines"]) == count
