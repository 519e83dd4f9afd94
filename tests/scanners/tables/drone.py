"""Fixtures for the drone scanner."""

from __future__ import annotations

from tests.scanners.tables import FixtureTable, cases, traps

PATH = ".drone.yml"

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

# Read: two pipeline documents, one step each, both `maven:3.6.3-jdk-11`.
CORPUS = {"4Science__DSpace/.drone.yml": 2}

TABLE = FixtureTable(
    kind="drone",
    path=PATH,
    claims=[".drone.yml", "a__b/.drone.yaml"],
    ignores=["drone.yml"],
    cases=cases(CASES),
    traps=traps(TRAPS),
    corpus=CORPUS,
)
