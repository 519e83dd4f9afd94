"""The Dockerfile scanner: base images, ARG defaults, copy/mount sources, the syntax directive."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pinbot.scanners import Status, scan_text
from pinbot.scanners.dockerfile import SCANNER
from pinbot.scanners.interface import Finding
from tests.scanners.tables.dockerfile import CORPUS
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


def test_statuses_of_arg_fed_and_templated_froms() -> None:
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


@pytest.mark.parametrize(("relative", "count"), CORPUS.items())
def test_real_files_give_spans_without_surrounding_space(relative: str, count: int) -> None:
    occurrences = [o for o in scan_corpus_file(relative) if o.kind == "dockerfile"]
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


def test_a_real_arg_default_image_is_reported_at_the_arg_and_rewritable() -> None:
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


def test_a_quoted_from_image_is_rewritable_and_an_unbalanced_quote_is_not() -> None:
    text = 'FROM "alpine:3.19" AS a\nFROM golang:"1.22 AS b\n'
    found = findings(text)
    assert [(text[f.start : f.end], f.rewritable) for f in found] == [
        ("alpine:3.19", True),
        ('golang:"1.22 AS b', False),
    ]


def test_a_continuation_at_the_very_end_of_the_file_is_not_an_instruction() -> None:
    # Found by tests/scanners/test_contract.py: a lone `\` as the last line crashed the scanner.
    (finding,) = SCANNER.scan("Dockerfile", "FROM alpine:3.20\n\\")
    assert finding.context == "FROM"


def _words_by_hand(text: str) -> list[tuple[int, int]]:
    """The word rule spelt out character by character: spaces and tabs split words; a quote
    runs to its closing quote or the end (`\\` escapes inside double quotes); a `{{ … }}` or
    `{% … %}` block outside quotes runs to its close or the end."""
    words, i = [], 0
    while i < len(text):
        if text[i] in " \t":
            i += 1
            continue
        begin, quote = i, None
        while i < len(text):
            char = text[i]
            if quote:
                if char == "\\" and quote == '"' and i + 1 < len(text):
                    i += 2
                    continue
                quote = None if char == quote else quote
            elif char in "\"'":
                quote = char
            elif text.startswith(("{{", "{%"), i):
                close = text.find("}}" if text[i + 1] == "{" else "%}", i + 2)
                i = len(text) if close < 0 else close + 2
                continue
            elif char in " \t":
                break
            i += 1
        words.append((begin, i))
    return words


@given(st.text(alphabet=" \t\"'{}%\\$aA=\n", max_size=40))
def test_instruction_words_follow_the_shell_like_rule(text: str) -> None:
    from pinbot.scanners.dockerfile import _Logical, _split_words

    logical = _Logical(text, list(range(len(text))), 1)
    words = _split_words(logical, 0)
    assert [(word.start, word.end) for word in words] == _words_by_hand(text)
    assert all(word.text == text[word.start : word.end] for word in words)
