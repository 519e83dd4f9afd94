"""CircleCI scanner: docker images of jobs, executors and inline orbs."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pinbot.scanners import Status, scan_text
from pinbot.scanners.circleci import SCANNER
from tests.support.corpus import scan_corpus_file

CONFIG = ".circleci/config.yml"


def found(text: str) -> list[tuple[str, str]]:
    return [(text[f.start : f.end], f.context) for f in SCANNER.scan(CONFIG, text)]


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        (".circleci/config.yml", True),
        ("org__repo/.circleci/continue_config.yaml", True),
        (".circleci/images/Dockerfile", False),
        ("circleci/config.yml", False),
        ("config.yml", False),
    ],
)
def test_matches(path: str, expected: bool) -> None:
    assert SCANNER.matches(path) is expected


CASES: list[tuple[str, str, list[tuple[str, str]]]] = [
    (
        "job with a primary image and a service image",
        "version: 2.1\njobs:\n  test:\n    docker:\n      - image: cimg/ruby:3.3-node\n"
        "        auth:\n          username: me\n      - image: 'cimg/postgres:16.2'\n"
        "        environment:\n          POSTGRES_USER: x\n    steps: [checkout]\n",
        [
            ("cimg/ruby:3.3-node", "jobs.test.docker[0].image"),
            ("cimg/postgres:16.2", "jobs.test.docker[1].image"),
        ],
    ),
    (
        "executors, and an anchor reused by alias once",
        'executors:\n  node:\n    docker:\n      - &node\n        image: "cimg/node:20.11"\n'
        "jobs:\n  a:\n    docker:\n      - *node\n    steps: [checkout]\n",
        [("cimg/node:20.11", "executors.node.docker[0].image")],
    ),
    (
        "inline orb executors and jobs",
        "orbs:\n  node: circleci/node@5\n  mine:\n    executors:\n      default:\n        docker:\n"
        "          - image: cimg/base:2024.01\n    jobs:\n      hello:\n        docker:\n"
        "          - image: cimg/go:1.22\n        steps: [checkout]\n",
        [
            ("cimg/base:2024.01", "orbs.mine.executors.default.docker[0].image"),
            ("cimg/go:1.22", "orbs.mine.jobs.hello.docker[0].image"),
        ],
    ),
    (
        "orb parameters are CircleCI interpolation",
        "jobs:\n  a:\n    parameters:\n      tag:\n        type: string\n        default: '3.12'\n"
        "    docker:\n      - image: cimg/python:<< parameters.tag >>\n    steps: [checkout]\n",
        [("cimg/python:<< parameters.tag >>", "jobs.a.docker[0].image")],
    ),
]

TRAPS: list[tuple[str, str]] = [
    ("orbs are not images", "orbs:\n  ruby: circleci/ruby@1.1.0\n  node: circleci/node@2\n"),
    (
        "machine images are VM images",
        "jobs:\n  a:\n    machine:\n      image: ubuntu-2204:2024.01.1\n",
    ),
    (
        "executor references by name",
        "jobs:\n  a:\n    executor: node/default\n    steps: [checkout]\n",
    ),
    (
        "workflows",
        "workflows:\n  build:\n    jobs:\n      - build\n      - test:\n          requires: [build]\n",
    ),
    (
        "odd shapes",
        "jobs: [a]\n---\njobs:\n  a: 3\n  b:\n    docker: cimg/go\n  c:\n    docker: [cimg/go, {image: ''}]\n",
    ),
    ("comments", "jobs:\n  a:\n    docker:\n      # - image: cimg/go:1.22\n      - auth: {}\n"),
]


@pytest.mark.parametrize(("name", "text", "expected"), CASES, ids=[c[0] for c in CASES])
def test_finds(name: str, text: str, expected: list[tuple[str, str]]) -> None:
    assert found(text) == expected


@pytest.mark.parametrize(("name", "text"), TRAPS, ids=[t[0] for t in TRAPS])
def test_traps(name: str, text: str) -> None:
    assert found(text) == []


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


# Read: jobs.build has cimg/ruby; jobs.test has cimg/ruby and circleci/postgres; the two
# orbs are packages.
CORPUS = {"CircleCI-Public__circleci-demo-ruby-rails/.circleci/config.yml": 3}


@pytest.mark.corpus
@pytest.mark.parametrize(("relative", "count"), sorted(CORPUS.items()))
def test_corpus(relative: str, count: int) -> None:
    assert len([o for o in scan_corpus_file(relative) if o.kind == "circleci"]) == count
