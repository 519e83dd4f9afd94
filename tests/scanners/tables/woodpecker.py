"""Fixtures for the woodpecker scanner."""

from __future__ import annotations

from tests.scanners.tables import FixtureTable, cases, traps

PATH = ".woodpecker.yaml"

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

TABLE = FixtureTable(
    kind="woodpecker",
    path=PATH,
    claims=[
        ".woodpecker.yml",
        ".woodpecker.yaml",
        "org__repo/.woodpecker.yml",
        ".woodpecker/test.yaml",
        ".woodpecker/release.yml",
    ],
    ignores=[".woodpecker/README.md", "woodpecker.yml", ".drone.yml"],
    cases=cases(CASES),
    traps=traps(TRAPS),
)
