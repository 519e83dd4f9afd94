"""The Dockerfile scanner reads parser directives, continuations and FROM as BuildKit does.

Evidence: moby/buildkit, frontend/dockerfile/parser/parser.go (`Parse`, `processLine`,
`setEscapeToken`, `trimContinuationCharacter`), parser/directives.go (`DirectiveParser`,
`DetectSyntax`) and dockerfile2llb/convert.go (`buildDispatchStates`, `addState`). The rules,
in our words, sit beside each case.
"""

from __future__ import annotations

import pytest

from pinbot.scanners import Status, scan_text
from pinbot.scanners.dockerfile import SCANNER
from pinbot.scanners.interface import ScanError


def reported(text: str) -> list[tuple[str, str]]:
    """(text as written, status) of every occurrence the scan of a Dockerfile reports."""
    outcome = scan_text("Dockerfile", text)
    assert outcome.errors == []
    return [(o.text, o.status.value) for o in outcome.occurrences]


def dismissed(text: str) -> list[tuple[str, str]]:
    return [(text[d.start : d.end], d.context) for d in SCANNER.dismissals("Dockerfile", text)]


WINDOWS_FROM = (
    "FROM --platform=windows/amd64 `\n"
    "    mcr.microsoft.com/windows/servercore:ltsc2022\n"
    "COPY app.exe c:\\\n"
    "FROM mcr.microsoft.com/windows/nanoserver:ltsc2022\n"
)
# With the backtick escape: one FROM of alpine:3. Without it: a FROM whose image is "`".
BACKTICK_FROM = "FROM --platform=linux/amd64 `\n  alpine:3\n"
HONOURED = [("alpine:3", "unpinned")]
MISSED = [("`", "invalid")]
SERVERCORE = ("mcr.microsoft.com/windows/servercore:ltsc2022", "unpinned")
NANOSERVER = ("mcr.microsoft.com/windows/nanoserver:ltsc2022", "unpinned")

# (case, Dockerfile, what is reported). Each case names the rule it checks.
DIRECTIVE_CASES: list[tuple[str, str, list[tuple[str, str]]]] = [
    (
        # processLine drops a line's leading whitespace (unicode.IsSpace) before it asks the
        # directive parser, so an indented `# escape=` still sets the escape character. Missed,
        # the backtick continuation was read as an image (invalid) and the real one lost.
        "spaces before the escape directive",
        "   # escape=`\n" + WINDOWS_FROM,
        [SERVERCORE, NANOSERVER],
    ),
    (
        "a tab before the escape directive",
        "\t# escape=`\n" + WINDOWS_FROM,
        [SERVERCORE, NANOSERVER],
    ),
    (
        "spaces after '#' and around '='",
        "#  escape =  `  \n" + WINDOWS_FROM,
        [SERVERCORE, NANOSERVER],
    ),
    (
        # DirectiveParser.ParseLine: a well-formed `# name=value` whose name is not a known
        # directive (syntax, escape, check) ends the directives; later ones are comments.
        "an unknown directive ends the directives",
        "# foo=bar\n# escape=`\n" + BACKTICK_FROM,
        MISSED,
    ),
    (
        "check is a directive: the escape after it counts",
        "# check=skip=all\n# escape=`\n" + BACKTICK_FROM,
        HONOURED,
    ),
    (
        # The name is `[a-zA-Z][a-zA-Z0-9]*`: a dash or underscore makes it a comment, and the
        # directives end there.
        "a directive name with a dash is a comment",
        "# my-note=x\n# escape=`\n" + BACKTICK_FROM,
        MISSED,
    ),
    (
        "an empty line ends the directives",
        "\n# escape=`\n" + BACKTICK_FROM,
        MISSED,
    ),
    (
        # setEscapeToken: the line continues when the escape ends it and does not follow
        # another escape (`c:\\` ends the instruction: the first escapes the second).
        "an escaped escape at the end of a line does not continue it",
        "FROM alpine:3\nRUN echo c:\\\\\nFROM golang:1.22\n",
        [("alpine:3", "unpinned"), ("golang:1.22", "unpinned")],
    ),
    (
        "an escape alone on a line continues it",
        "FROM \\\n\\\n  golang:1.22\n",
        [("golang:1.22", "unpinned")],
    ),
    (
        # Leading whitespace of the joined instruction is dropped (splitCommand trims it).
        "an instruction indented with a no-break space",
        "\u00a0FROM alpine:3\n",
        [("alpine:3", "unpinned")],
    ),
    (
        # DetectSyntax, which picks the frontend image, reads raw lines: `#` must come first.
        "whitespace before '# syntax=': no frontend image is pulled",
        "  # syntax=docker/dockerfile:1\nFROM alpine:3\n",
        [("alpine:3", "unpinned")],
    ),
    (
        # DetectSyntax skips a first `#!` line.
        "a syntax directive after a shebang line",
        "#!/usr/bin/env buildctl\n# syntax=docker/dockerfile:1.7\nFROM alpine:3\n",
        [("docker/dockerfile:1.7", "unpinned"), ("alpine:3", "unpinned")],
    ),
    (
        # detectDirectiveFromParser: the image is the value up to the first space; the rest
        # is passed to the frontend.
        "a syntax directive with frontend arguments",
        "# syntax=docker/dockerfile:1.7 --debug\nFROM alpine:3\n",
        [("docker/dockerfile:1.7", "unpinned"), ("alpine:3", "unpinned")],
    ),
    (
        "a shebang ends the escape directives but not syntax detection",
        "#!/bin/sh\n# escape=`\n" + BACKTICK_FROM,
        MISSED,
    ),
]


@pytest.mark.parametrize(
    ("text", "expected"),
    [pytest.param(text, expected, id=case) for case, text, expected in DIRECTIVE_CASES],
)
def test_directives_and_continuations_read_as_buildkit_does(
    text: str, expected: list[tuple[str, str]]
) -> None:
    assert reported(text) == expected


def test_without_the_escape_directive_the_windows_file_is_misread() -> None:
    # The counter-example that shows the table above tests something: a backslash escape
    # (the default) swallows the FROM after `c:\` and reads the backtick as the image.
    assert reported(WINDOWS_FROM) == [("`", "invalid")]


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        pytest.param(
            "# escape=`\n  # escape=\\\nFROM alpine:3\n",
            2,
            "only one escape parser directive can be used",
            id="a directive twice",
        ),
        pytest.param(
            "# escape=x\nFROM alpine:3\n",
            1,
            "invalid escape token 'x' does not match ` or \\",
            id="an escape that is neither backslash nor backtick",
        ),
    ],
)
def test_a_file_buildkit_rejects_is_reported_and_left_alone(
    text: str, line: int, message: str
) -> None:
    with pytest.raises(ScanError) as raised:
        list(SCANNER.scan("Dockerfile", text))
    assert raised.value.line == line
    assert raised.value.message == f"BuildKit rejects this file: {message}"
    outcome = scan_text("Dockerfile", text)
    assert outcome.occurrences == []
    assert [str(problem) for problem in outcome.errors] == [
        f"Dockerfile:{line}: BuildKit rejects this file: {message}; file left unchanged"
    ]


def test_an_indented_syntax_directive_says_why_it_is_not_an_image() -> None:
    text = "  # syntax=docker/dockerfile:1\nFROM alpine:3\n"
    [dismissal] = SCANNER.dismissals("Dockerfile", text)
    assert text[dismissal.start : dismissal.end] == "docker/dockerfile:1"
    assert "whitespace before '#'" in dismissal.reason


# (case, Dockerfile, reported, dismissed). buildDispatchStates expands a FROM with the global
# ARGs first; only then is the result compared with "scratch" (an empty base) and looked up
# among the stages declared before it (addState). Renovate and pinbot used to read the default
# as an image: `docker.io/library/scratch`, `docker.io/library/build`.
ARG_CASES: list[tuple[str, str, list[tuple[str, str]], list[tuple[str, str]]]] = [
    (
        "an ARG default of scratch",
        "ARG img=scratch\nFROM $img AS base\nCOPY app /\n",
        [],
        [("scratch", "ARG img"), ("$img", "FROM (stage base)")],
    ),
    (
        "braces and a default naming an earlier stage",
        "ARG BASE=build\nFROM golang:1.22 AS build\nFROM ${BASE}\n",
        [("golang:1.22", "unpinned")],
        [("build", "ARG BASE"), ("${BASE}", "FROM")],
    ),
    (
        "a composed FROM that gives an earlier stage",
        "ARG FLAVOUR=build\nFROM golang:1.22 AS build-base\nFROM ${FLAVOUR}-base\n",
        [("golang:1.22", "unpinned")],
        [("${FLAVOUR}-base", "FROM")],
    ),
    (
        # The stage is declared after the FROM: there it is an image on Docker Hub.
        "a stage declared later does not count",
        "ARG BASE=build\nFROM $BASE AS first\nFROM golang:1.22 AS build\n",
        [("build", "unpinned"), ("golang:1.22", "unpinned")],
        [],
    ),
    (
        # One ARG, an image for the first FROM and a stage for the last: writing a digest
        # into its default would turn the stage reference into an image, so it is not pinned.
        "an ARG that is an image once and a stage later",
        "ARG BASE=build\nFROM $BASE AS first\nFROM golang:1.22 AS build\nFROM $BASE\n",
        [("build", "unpinned"), ("golang:1.22", "unpinned")],
        [("build", "ARG BASE"), ("$BASE", "FROM")],
    ),
    (
        "stage names and indices in COPY --from and RUN --mount",
        "FROM golang:1.22 AS build\nFROM alpine:3\nCOPY --from=build /a /a\nCOPY --from=0 /b /b\n"
        "RUN --mount=from=build,target=/c true\n",
        [("golang:1.22", "unpinned"), ("alpine:3", "unpinned")],
        [("build", "COPY --from"), ("0", "COPY --from"), ("build", "RUN --mount from")],
    ),
    (
        "a literal scratch and stage",
        "FROM scratch AS empty\nFROM empty\n",
        [],
        [("scratch", "FROM (stage empty)"), ("empty", "FROM")],
    ),
]


@pytest.mark.parametrize(
    ("text", "expected", "why_not"),
    [pytest.param(text, found, why, id=case) for case, text, found, why in ARG_CASES],
)
def test_from_is_expanded_before_stages_and_scratch_are_recognised(
    text: str, expected: list[tuple[str, str]], why_not: list[tuple[str, str]]
) -> None:
    assert reported(text) == expected
    assert dismissed(text) == why_not


def test_the_shared_arg_is_reported_but_not_rewritable() -> None:
    text = "ARG BASE=build\nFROM $BASE AS first\nFROM golang:1.22 AS build\nFROM $BASE\n"
    [arg, _golang] = scan_text("Dockerfile", text).occurrences
    assert arg.status is Status.UNPINNED
    assert not arg.rewritable


def test_a_scratch_default_and_a_stage_name_are_dismissed_with_the_reason() -> None:
    reasons = {
        text: reason
        for text, reason in (
            ("ARG img=scratch\nFROM $img\n", "ARG img defaults to scratch, which is scratch"),
            (
                "FROM golang:1.22 AS build\nCOPY --from=build /a /a\n",
                "a build stage's name, not an image",
            ),
        )
    }
    for text, reason in reasons.items():
        assert any(reason in d.reason for d in SCANNER.dismissals("Dockerfile", text)), text
