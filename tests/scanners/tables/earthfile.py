"""Fixtures for the earthfile scanner."""

from __future__ import annotations

from tests.scanners.tables import FixtureTable, cases, traps

PATH = "Earthfile"

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

TABLE = FixtureTable(
    kind="earthfile",
    path=PATH,
    claims=["Earthfile", "services/api/Earthfile"],
    ignores=["Earthfile.md", "earthfile"],
    cases=cases(CASES),
    traps=traps(TRAPS),
)
