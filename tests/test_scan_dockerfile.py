"""The Dockerfile scanner: base images, ARG defaults, copy/mount sources, the syntax directive."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pinbot.scanners import Status, scan_text
from pinbot.scanners.dockerfile import SCANNER, is_dockerfile_name
from pinbot.scanners.interface import Finding
from tests.support.corpus import corpus_root, scan_corpus_file


def findings(text: str) -> list[Finding]:
    found = list(SCANNER.scan("Dockerfile", text))
    for finding in found:
        # A finding pinned at its span holds the reference there; one with a digest slot
        # (a FROM built from ARG defaults) is written elsewhere.
        if finding.reference_text is not None and finding.rewritable and not finding.digest_slot:
            assert text[finding.start : finding.end] == finding.reference_text
    return found


def spans(text: str) -> list[tuple[str, str]]:
    return [(text[f.start : f.end], f.context) for f in findings(text)]


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


@pytest.mark.parametrize(
    ("text", "expected"), [(c[1], c[2]) for c in CASES], ids=[c[0] for c in CASES]
)
def test_scan(text: str, expected: list[tuple[str, str]]) -> None:
    assert spans(text) == expected


def test_crlf_and_bom_keep_spans() -> None:
    text = "\ufeff# syntax=docker/dockerfile:1\r\nARG BASE=alpine:3.19\r\nFROM ${BASE} AS a\r\nFROM nginx:1.27 \\\r\n  AS b\r\n"
    assert spans(text) == [
        ("docker/dockerfile:1", "syntax directive"),
        ("alpine:3.19", "ARG BASE (used by FROM line 3)"),
        ("nginx:1.27", "FROM (stage b)"),
    ]


def test_arg_used_elsewhere_is_not_rewritable() -> None:
    text = "ARG BASE=alpine:3.19\nFROM $BASE\nARG BASE\nLABEL base=${BASE}\n"
    (finding,) = findings(text)
    assert text[finding.start : finding.end] == "alpine:3.19"
    assert not finding.rewritable
    assert finding.note is not None and "BASE" in finding.note


def test_arg_also_concatenated_in_a_from_is_not_rewritable() -> None:
    text = "ARG BASE=alpine\nFROM $BASE\nFROM ${BASE}-slim AS s\n"
    found = findings(text)
    assert [(text[f.start : f.end], f.rewritable) for f in found] == [
        ("alpine", False),
        ("${BASE}-slim", False),
    ]
    assert found[1].templated


def test_templated_from_notes_what_the_defaults_give() -> None:
    # VER is read by a LABEL too, so its default is not only the base image's tag.
    text = (
        "ARG REGISTRY=docker.io\nARG VER=3.20@sha256:"
        + "b" * 64
        + "\nFROM ${REGISTRY}/library/alpine:${VER}\nLABEL base=$VER\n"
    )
    (finding,) = findings(text)
    assert finding.templated
    assert finding.note == "ARG defaults give docker.io/library/alpine:3.20@sha256:" + "b" * 64


DIGEST_B = "sha256:" + "b" * 64

# FROMs whose tag (and digest) come from one ARG default: (text, [(FROM text, reference the
# defaults give, the text at the digest slot, the slot's prefix)]).
COMPOSED: dict[str, tuple[str, list[tuple[str, str, str, str]]]] = {
    "tag and digest in the ARG": (
        f"ARG REGISTRY=docker.io\nARG GO_VER=1.22-alpine@{DIGEST_B}\n"
        "FROM ${REGISTRY}/library/golang:${GO_VER} AS golang\nRUN go version\n",
        [
            (
                "${REGISTRY}/library/golang:${GO_VER}",
                f"docker.io/library/golang:1.22-alpine@{DIGEST_B}",
                DIGEST_B,
                "",
            )
        ],
    ),
    "a first pin goes right after the tag": (
        "ARG GO_VER=1.22-alpine\nFROM golang:$GO_VER\n",
        [("golang:$GO_VER", "golang:1.22-alpine", "", "@")],
    ),
    "quoted default, a platform flag": (
        'ARG V="3.20"\nFROM --platform=$BUILDPLATFORM alpine:${V} AS a\n',
        [("alpine:${V}", "alpine:3.20", "", "@")],
    ),
    "the ARG holds name and tag": (
        "ARG MIRROR=mirror.gcr.io\nARG IMG=library/alpine:3.20\nFROM ${MIRROR}/${IMG}\n",
        [("${MIRROR}/${IMG}", "mirror.gcr.io/library/alpine:3.20", "", "@")],
    ),
    "two FROMs share the ARG and one slot": (
        f"ARG R=docker.io\nARG ALPINE_VER=3.20@{DIGEST_B}\n"
        "FROM ${R}/library/alpine:${ALPINE_VER} AS base\nRUN true\n"
        "FROM ${R}/library/alpine:${ALPINE_VER} AS release\nCOPY --from=base / /\n",
        [
            (
                "${R}/library/alpine:${ALPINE_VER}",
                f"docker.io/library/alpine:3.20@{DIGEST_B}",
                DIGEST_B,
                "",
            ),
        ]
        * 2,
    ),
}


@pytest.mark.parametrize("name", COMPOSED)
def test_from_built_from_arg_defaults_is_pinned_through_the_default(name: str) -> None:
    text, expected = COMPOSED[name]
    found = [f for f in findings(text) if f.digest_slot is not None]
    got = [
        (
            text[f.start : f.end],
            f.reference_text,
            text[f.digest_slot.start : f.digest_slot.end],
            f.digest_slot.prefix,
        )
        for f in found
        if f.digest_slot is not None
    ]
    assert got == expected
    assert all(f.rewritable and not f.templated and f.structured for f in found)
    assert len({f.digest_slot for f in found}) == 1  # one place to write, however many FROMs
    for occurrence in scan_text("Dockerfile", text).occurrences:
        if occurrence.digest_slot is not None:
            assert occurrence.status in (Status.PINNED, Status.UNPINNED)
            assert occurrence.text == text[occurrence.start : occurrence.end]


# FROMs built from ARG defaults that stay templated, each with why.
STAYS_TEMPLATED: dict[str, str] = {
    "the ARG is used by RUN": "ARG V=3.20\nFROM alpine:${V}\nRUN echo $V\n",
    "the ARG is used in a heredoc": "ARG V=3.20\nFROM alpine:${V}\nRUN <<EOF\necho ${V}\nEOF\n",
    "the ARG is declared again in a stage": "ARG V=3.20\nFROM alpine:${V}\nARG V\nRUN ./build\n",
    "the ARG feeds another ARG": "ARG V=3.20\nARG W=x-${V}\nFROM alpine:${V}\n",
    "the ARG is a platform flag too": "ARG V=3.20\nFROM --platform=$V alpine:${V}\n",
    "the default has no tag": "ARG NAME=alpine\nFROM docker.io/library/${NAME}\n",
    "the tag is partly written in the FROM": "ARG MINOR=20\nFROM alpine:3.${MINOR}\n",
    "the ARG does not end the image": "ARG V=3.12\nFROM python:${V}-slim\n",
    "another ARG has no default": "ARG REG\nARG V=3.20\nFROM ${REG}/alpine:${V}\n",
    "a default form the scanner does not expand": "ARG V=3.20\nFROM alpine:${V:-3.19}\n",
    "two images share the ARG": "ARG OS=ltsc2022\nFROM mcr.microsoft.com/windows/servercore:${OS} AS b\n"
    "FROM mcr.microsoft.com/windows/nanoserver:${OS}\n",
    "a FROM that cannot use it whole shares the ARG": "ARG V=3.20\nFROM alpine:${V}\n"
    "FROM python:${V}-slim\n",
    "the default is escaped": 'ARG V="3\\.20"\nFROM alpine:${V}\n',
    "the default is the whole image elsewhere": "ARG V=3.20\nFROM alpine:${V} AS a\nFROM $V\n",
}


@pytest.mark.parametrize("name", STAYS_TEMPLATED)
def test_from_built_from_arg_defaults_stays_templated(name: str) -> None:
    text = STAYS_TEMPLATED[name]
    found = findings(text)
    composed = [f for f in found if "$" in text[f.start : f.end] and "FROM" in f.context]
    assert composed, found
    assert all(f.templated and not f.rewritable and f.digest_slot is None for f in composed)
    assert all(f.digest_slot is None for f in found)


def test_escaped_quoted_arg_default_is_not_rewritable() -> None:
    text = 'ARG BASE="alp\\ine:3"\nFROM $BASE\n'
    (finding,) = findings(text)
    assert not finding.rewritable


def test_bare_copy_from_may_be_a_build_context() -> None:
    text = "FROM alpine:3\nCOPY --from=binary_dir app /bin/\nCOPY --from=composer:2 /usr/bin/composer /bin/\n"
    found = findings(text)
    assert [(text[f.start : f.end], f.rewritable) for f in found] == [
        ("alpine:3", True),
        ("binary_dir", False),
        ("composer:2", True),
    ]


def test_reference_split_by_continuation_is_not_rewritable() -> None:
    text = "FROM alpine:\\\n3.19\n"
    (finding,) = findings(text)
    assert finding.reference_text == "alpine:3.19"
    assert not finding.rewritable


def test_driver_statuses() -> None:
    text = (
        "# syntax=docker/dockerfile:1\nARG B=alpine:3.19@sha256:"
        + "c" * 64
        + "\nFROM $B\nFROM python:${V}\n"
    )
    outcome = scan_text("build/Dockerfile", text)
    assert outcome.errors == []
    assert [(o.text, o.status) for o in outcome.occurrences] == [
        ("docker/dockerfile:1", Status.UNPINNED),
        ("alpine:3.19@sha256:" + "c" * 64, Status.PINNED),
        ("python:${V}", Status.TEMPLATED),
    ]
    assert [o.line for o in outcome.occurrences] == [1, 2, 4]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Dockerfile", True),
        ("dockerfile", True),
        ("Containerfile", True),
        ("Dockerfile.dev", True),
        ("Dockerfile.regbot.buildkit", True),
        ("Dockerfile-alpine.template", True),
        ("Dockerfile9", True),
        ("android.Dockerfile", True),
        ("api.containerfile", True),
        ("Containerfile.arm64", True),
        ("Dockerfile.md", False),
        ("Dockerfile.dockerignore", False),
        (".dockerignore", False),
        ("dockerfile.go", False),
        ("dockerfile_test.py", False),
        ("Dockerfiles", False),
        ("docker-compose.yml", False),
        ("Dockerfile~", False),
    ],
)
def test_file_names(name: str, expected: bool) -> None:
    assert is_dockerfile_name(name) is expected
    assert SCANNER.matches(f"some/dir/{name}") is expected


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


@pytest.mark.parametrize(("relative", "count"), CORPUS.items())
def test_corpus_counts(relative: str, count: int) -> None:
    occurrences = [o for o in scan_corpus_file(relative) if o.kind == "dockerfile"]
    assert len(occurrences) == count, [(o.line, o.text) for o in occurrences]
    for occurrence in occurrences:
        assert occurrence.text.strip() == occurrence.text and occurrence.text


def test_corpus_from_through_arg_defaults_is_pinned_at_the_default() -> None:
    relative = "regclient__regclient/build/Dockerfile.regbot"
    occurrences = scan_corpus_file(relative)
    assert [(o.line, o.status, o.rewritable) for o in occurrences] == [
        (10, Status.PINNED, True),
        (48, Status.PINNED, True),
        (65, Status.PINNED, True),
        (76, Status.PINNED, True),
    ]
    golang, *alpine = occurrences
    assert golang.text == "${REGISTRY}/library/golang:${GO_VER}"
    assert golang.reference_text.startswith("docker.io/library/golang:1.26.4-alpine@sha256:")
    assert len({o.digest_slot for o in alpine}) == 1  # ALPINE_VER's digest, line 2
    text = (corpus_root() / relative).read_text()
    slot = alpine[0].digest_slot
    assert slot is not None and text.count("\n", 0, slot.start) + 1 == 2
    assert alpine[0].reference is not None
    assert text[slot.start : slot.end] == alpine[0].reference.digest


def test_corpus_arg_default_span() -> None:
    (first, *_rest) = scan_corpus_file("argoproj__argo-cd/Dockerfile")
    assert first.context == "ARG BASE_IMAGE (used by FROM line 38)"
    assert first.text.startswith("docker.io/library/ubuntu:26.04@sha256:")
    assert first.status is Status.PINNED and first.rewritable


_REFERENCES = st.sampled_from(
    ["alpine:3.19", "ghcr.io/a/b:1.0", "nginx@sha256:" + "d" * 64, "localhost:5000/x"]
)


@given(
    reference=_REFERENCES,
    newline=st.sampled_from(["\n", "\r\n"]),
    indent=st.sampled_from(["", " ", "\t", "   "]),
    keyword=st.sampled_from(["FROM", "from", "From"]),
    flags=st.sampled_from(["", "--platform=$BUILDPLATFORM ", "--platform=linux/amd64 \\\n  "]),
    stage=st.sampled_from(["", " AS build", " as x"]),
    comment=st.sampled_from(["", "# a comment\n", "\n"]),
    via_arg=st.booleans(),
    quote=st.sampled_from(["", '"', "'"]),
)
def test_span_holds_the_reference(
    reference: str,
    newline: str,
    indent: str,
    keyword: str,
    flags: str,
    stage: str,
    comment: str,
    via_arg: bool,
    quote: str,
) -> None:
    if via_arg:
        text = f"{comment}ARG IMAGE={quote}{reference}{quote}\n{indent}{keyword} {flags}${{IMAGE}}{stage}\nRUN true\n"
    else:
        text = (
            f"{comment}{indent}{keyword} {flags}{reference}{stage}\nRUN <<EOF\nFROM trap:1\nEOF\n"
        )
    text = text.replace("\n", newline)
    found = findings(text)
    assert [text[f.start : f.end] for f in found] == [reference]
    assert found[0].rewritable


def test_quoted_from_image() -> None:
    text = 'FROM "alpine:3.19" AS a\nFROM golang:"1.22 AS b\n'
    found = findings(text)
    assert [(text[f.start : f.end], f.rewritable) for f in found] == [
        ("alpine:3.19", True),
        ('golang:"1.22 AS b', False),
    ]


def test_a_continuation_at_the_very_end_of_the_file_is_not_an_instruction() -> None:
    # Found by tests/test_scan_fuzz.py: a lone `\` as the last line crashed the scanner.
    (finding,) = SCANNER.scan("Dockerfile", "FROM alpine:3.20\n\\")
    assert finding.context == "FROM"
