"""Fixtures for the Gitpod scanner: the workspace image of `.gitpod.yml`."""

from __future__ import annotations

from tests.scanners.tables import Case, FixtureTable, Trap

PATH = ".gitpod.yml"

CASES = [
    Case("plain", "image: gitpod/workspace-full\n", [("gitpod/workspace-full", "image")]),
    Case(
        "quoted, after other keys, with a comment",
        "tasks: []\nimage: 'gitpod/workspace-go:2024-01-01'  # go\n",
        [("gitpod/workspace-go:2024-01-01", "image")],
    ),
    Case(
        "a digest, CRLF",
        'image: "gitpod/workspace-base@sha256:' + "a" * 64 + '"\r\n',
        [("gitpod/workspace-base@sha256:" + "a" * 64, "image")],
    ),
]

TRAPS = [
    Trap("a Dockerfile path", "image:\n  file: .gitpod.Dockerfile\n"),
    Trap("an empty image", "image:\n"),
    Trap("an image in a task's script", "tasks:\n  - init: docker pull nginx:1.27\n"),
    Trap("a list at the top", "- image: x\n"),
    Trap("other keys", "ports:\n  - port: 3000\nvscode:\n  extensions: [image]\n"),
]

# Read: `image: gitpod/workspace-full` on line 1; tasks' scripts hold no image keys.
CORPUS = {"prometheus-operator__kube-prometheus/.gitpod.yml": 1}

TABLE = FixtureTable(
    kind="gitpod",
    path=PATH,
    claims=["a__b/.gitpod.yaml"],
    ignores=["gitpod.yml", ".gitpod.Dockerfile"],
    cases=CASES,
    traps=TRAPS,
    corpus=CORPUS,
)
