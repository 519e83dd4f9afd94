"""Gitpod scanner: the workspace image of `.gitpod.yml`."""

from __future__ import annotations

import pytest

from pinbot.scanners import Status, scan_text
from pinbot.scanners.gitpod import SCANNER
from tests.support.corpus import scan_corpus_file


def found(text: str) -> list[tuple[str, str]]:
    return [(text[f.start : f.end], f.context) for f in SCANNER.scan(".gitpod.yml", text)]


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        (".gitpod.yml", True),
        ("a__b/.gitpod.yaml", True),
        ("gitpod.yml", False),
        (".gitpod.Dockerfile", False),
    ],
)
def test_matches(path: str, expected: bool) -> None:
    assert SCANNER.matches(path) is expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("image: gitpod/workspace-full\n", [("gitpod/workspace-full", "image")]),
        (
            "tasks: []\nimage: 'gitpod/workspace-go:2024-01-01'  # go\n",
            [("gitpod/workspace-go:2024-01-01", "image")],
        ),
        (
            'image: "gitpod/workspace-base@sha256:' + "a" * 64 + '"\r\n',
            [("gitpod/workspace-base@sha256:" + "a" * 64, "image")],
        ),
    ],
)
def test_finds(text: str, expected: list[tuple[str, str]]) -> None:
    assert found(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "image:\n  file: .gitpod.Dockerfile\n",  # a Dockerfile path
        "image:\n",
        "tasks:\n  - init: docker pull nginx:1.27\n",
        "- image: x\n",
        "ports:\n  - port: 3000\nvscode:\n  extensions: [image]\n",
    ],
)
def test_traps(text: str) -> None:
    assert found(text) == []


def test_status() -> None:
    (occurrence,) = scan_text(".gitpod.yml", "image: gitpod/workspace-full\n").occurrences
    assert (occurrence.kind, occurrence.status) == ("gitpod", Status.UNPINNED)


# Read: `image: gitpod/workspace-full` on line 1; tasks' scripts hold no image keys.
CORPUS = {"prometheus-operator__kube-prometheus/.gitpod.yml": 1}


@pytest.mark.corpus
@pytest.mark.parametrize(("relative", "count"), sorted(CORPUS.items()))
def test_corpus(relative: str, count: int) -> None:
    assert len([o for o in scan_corpus_file(relative) if o.kind == "gitpod"]) == count
