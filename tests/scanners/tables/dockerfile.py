"""Fixtures for the dockerfile scanner."""

from __future__ import annotations

from tests.scanners.tables import FixtureTable, cases

PATH = "Dockerfile"

CASES: list[tuple[str, str, list[tuple[str, str]]]] = [
    ("plain FROM", "FROM alpine:3.19\nRUN true\n", [("alpine:3.19", "FROM")]),
    (
        "platform flag and stage name",
        "FROM --platform=$BUILDPLATFORM golang:1.22 AS build\nFROM gcr.io/distroless/static\n",
        [("golang:1.22", "FROM (stage build)"), ("gcr.io/distroless/static", "FROM")],
    ),
    (
        "flag after the image is still a flag position; lowercase keywords",
        "from --platform=linux/amd64 node:20 as web\n",
        [("node:20", "FROM (stage web)")],
    ),
    (
        "stage names are not images, case-insensitively",
        "FROM python:3.12 AS Base\nFROM base AS builder\nFROM BASE\nCOPY --from=builder /a /b\n",
        [("python:3.12", "FROM (stage Base)")],
    ),
    ("scratch is not an image", "FROM scratch\nCOPY app /\n", []),
    (
        "digest-only reference",
        "FROM alpine@sha256:" + "a" * 64 + "\n",
        [("alpine@sha256:" + "a" * 64, "FROM")],
    ),
    (
        "COPY --from an image, a stage index, a stage",
        "FROM node:20 AS ui\nFROM alpine:3\nCOPY --from=0 /a /a\nCOPY --from=ui /b /b\n"
        "COPY --chown=1 --from=ghcr.io/acme/tool:1.2 /bin/tool /bin/\n",
        [
            ("node:20", "FROM (stage ui)"),
            ("alpine:3", "FROM"),
            ("ghcr.io/acme/tool:1.2", "COPY --from"),
        ],
    ),
    (
        "RUN --mount from= value",
        "FROM alpine:3\nRUN --mount=type=bind,from=golang:1.22,source=/usr/local/go,target=/go \\\n"
        "    --mount=type=cache,target=/root/.cache go build\n",
        [("alpine:3", "FROM"), ("golang:1.22", "RUN --mount from")],
    ),
    (
        "syntax directive, then escape directive",
        "# syntax=docker/dockerfile:1.7\n# escape=\\\nFROM alpine:3\n",
        [("docker/dockerfile:1.7", "syntax directive"), ("alpine:3", "FROM")],
    ),
    (
        "a syntax comment after the first instruction is only a comment",
        "FROM alpine:3\n# syntax=docker/dockerfile:1\n",
        [("alpine:3", "FROM")],
    ),
    (
        "continuation lines, with comments and blank lines inside",
        "FROM \\\n# a comment\n\n    --platform=linux/arm64 \\\n    debian:bookworm \\\n    AS base\n",
        [("debian:bookworm", "FROM (stage base)")],
    ),
    (
        "backtick escape directive",
        "# escape=`\nFROM mcr.microsoft.com/windows/servercore:ltsc2022 `\n  AS win\nRUN dir c:\\\n",
        [("mcr.microsoft.com/windows/servercore:ltsc2022", "FROM (stage win)")],
    ),
    (
        "heredoc bodies are not instructions",
        "FROM alpine:3\nRUN <<EOF\nFROM evil:1\nCOPY --from=evil:2 / /\nEOF\nCOPY <<-CONF /etc/x\n\tFROM no:3\n\tCONF\n"
        "FROM busybox:1\n",
        [("alpine:3", "FROM"), ("busybox:1", "FROM")],
    ),
    (
        "ARG default is the base image",
        "ARG BASE=python:3.12-slim\nFROM ${BASE}\nRUN true\n",
        [("python:3.12-slim", "ARG BASE (used by FROM line 2)")],
    ),
    (
        "quoted ARG default, two FROMs",
        'ARG BASE="alpine:3.19"\nFROM $BASE AS a\nFROM $BASE AS b\n',
        [("alpine:3.19", "ARG BASE (used by FROM lines 2, 3)")],
    ),
    (
        "ARG combined with other text is templated FROM text",
        "ARG VER=3.12\nFROM python:${VER}-slim\n",
        [("python:${VER}-slim", "FROM")],
    ),
    (
        "ARG without default",
        "ARG BASE_IMAGE\nFROM $BASE_IMAGE\n",
        [("$BASE_IMAGE", "FROM")],
    ),
    (
        "an ARG declared after the first FROM is not a global ARG",
        "FROM alpine:3\nARG IMG=nginx:1\nFROM $IMG\n",
        [("alpine:3", "FROM"), ("$IMG", "FROM")],
    ),
    (
        "ONBUILD triggers and JSON-form instructions",
        'FROM node:20\nONBUILD COPY --from=x:1 / /\nCMD ["node", "--from=y:2"]\nRUN ["sh", "-c", "true"]\n',
        [("node:20", "FROM")],
    ),
    (
        "template blocks stay one word",
        "FROM alpine:{{ version }} AS t\n",
        [("alpine:{{ version }}", "FROM (stage t)")],
    ),
    ("empty file", "", []),
    ("only comments", "# FROM alpine:3\n\n", []),
    ("FROM without an image", "FROM\nFROM --platform=linux/amd64\n", []),
]

# Counted by reading each file: FROM lines that are not stages or scratch, `COPY --from=`
# values that are not stages, and `# syntax=` lines.
CORPUS = {
    # 3 FROMs with images; `FROM builder`/`FROM argoexec-base` are stages; COPY --from all stages.
    "argoproj__argo-workflows/Dockerfile.windows": 2,
    # syntax + golang, node, distroless x3, kubectl, alpine x3 (the rest are stages).
    "argoproj__argo-workflows/Dockerfile": 10,
    # ARG BASE_IMAGE default (used by `FROM $BASE_IMAGE AS argocd-base`) + golang, node, golang;
    # the last `FROM argocd-base` is a stage.
    "argoproj__argo-cd/Dockerfile": 4,
    # `FROM argocd-base` names no stage in this file: an image built elsewhere.
    "argoproj__argo-cd/Dockerfile.dev": 1,
    "argoproj__argo-cd/test/container/Dockerfile": 6,
    # syntax + golang + alpine x2; release-scratch and the stage FROMs are not images.
    "regclient__regclient/build/Dockerfile.regctl.buildkit": 4,
    # golang and alpine x3, each built from ARG defaults that hold tag@digest.
    "regclient__regclient/build/Dockerfile.regbot": 4,
    # `FROM $BASE_IMAGE` (ARG without default) + two `COPY --from=` named contexts.
    "gitlabhq__gitlab-runner/dockerfiles/runner/Dockerfile": 3,
    "gitlabhq__gitlab-runner/tests/dockerfiles/gitlab-runner-helper-entrypoint/dockerfile": 2,
    # syntax + python + `COPY --from=gloursdocker/docker`; RUN <<EOF heredocs hold no FROM.
    "docker__awesome-compose/flask/app/Dockerfile": 3,
    "docker__awesome-compose/react-nginx/Dockerfile": 4,
    # jq template preamble is not instructions; one templated FROM.
    "docker-library__postgres/Dockerfile-alpine.template": 1,
    "docker-library__postgres/17/bookworm/Dockerfile": 1,
    "GoogleCloudPlatform__microservices-demo/src/loadgenerator/Dockerfile": 1,
    "GoogleCloudPlatform__microservices-demo/src/cartservice/src/Dockerfile.debug": 2,
    "devcontainers__templates/src/cpp/.devcontainer/Dockerfile": 1,
    "4Science__DSpace/dspace/src/main/docker/dspace-solr/Dockerfile": 1,
    "4Science__DSpace/dspace/src/main/docker/dspace-solr/Dockerfile9": 1,
    "kubernetes__examples/_archived/meteor/dockerbase/Dockerfile": 1,
    "open-telemetry__opentelemetry-demo/src/react-native-app/android.Dockerfile": 2,
    "open-telemetry__opentelemetry-demo/src/quote/Dockerfile": 3,
}

TABLE = FixtureTable(
    kind="dockerfile",
    path=PATH,
    claims=[
        "Dockerfile",
        "dockerfile",
        "Containerfile",
        "Dockerfile.dev",
        "Dockerfile.regbot.buildkit",
        "Dockerfile-alpine.template",
        "Dockerfile9",
        "android.Dockerfile",
        "api.containerfile",
        "Containerfile.arm64",
    ],
    ignores=[
        "Dockerfile.md",
        "Dockerfile.dockerignore",
        ".dockerignore",
        "dockerfile.go",
        "dockerfile_test.py",
        "Dockerfiles",
        "docker-compose.yml",
        "Dockerfile~",
    ],
    cases=cases(CASES),
    corpus=CORPUS,
)
