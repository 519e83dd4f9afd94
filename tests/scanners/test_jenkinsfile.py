"""Jenkinsfile scanner: declarative Docker agents, scripted docker.image, containerTemplate."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pinbot.scanners import ScanError, Status, scan_text
from pinbot.scanners.jenkinsfile import SCANNER
from tests.support.roundtrip import pin_file

JENKINSFILE = "Jenkinsfile"
NEW = "sha256:" + "a" * 64


def found(text: str) -> list[tuple[str, str]]:
    return [(text[f.start : f.end], f.context) for f in SCANNER.scan(JENKINSFILE, text)]


def test_gstrings_are_templated_and_single_quotes_are_not_interpolated() -> None:
    text = (
        'pipeline { agent { docker { image "node:${NODE_VERSION}" } } }\n'
        "node { docker.image(\"${registry}/sdk:8\").inside { sh 'make' } }\n"
        "node { docker.image('alpine:3.20').inside { sh 'true' } }\n"
    )
    outcome = scan_text(JENKINSFILE, text)
    assert [(o.kind, o.text, o.status) for o in outcome.occurrences] == [
        ("jenkinsfile", "node:${NODE_VERSION}", Status.TEMPLATED),
        ("jenkinsfile", "${registry}/sdk:8", Status.TEMPLATED),
        ("jenkinsfile", "alpine:3.20", Status.UNPINNED),
    ]


def test_escaped_string_is_reported_not_rewritten() -> None:
    text = "pipeline { agent { docker 'alpine\\u003a3' } }\n"
    (finding,) = SCANNER.scan(JENKINSFILE, text)
    assert not finding.rewritable and finding.reference_text is not None


@pytest.mark.parametrize(("text", "line"), [("node {\n  x = 'open\n}\n", 2), ("/* open\n", 1)])
def test_unreadable_file_is_a_scan_error(text: str, line: int) -> None:
    with pytest.raises(ScanError) as raised:
        list(SCANNER.scan(JENKINSFILE, text))
    assert raised.value.line == line


def test_strings_nested_in_interpolations_without_end_are_a_scan_error() -> None:
    # Found by tests/scanners/test_contract.py: each `"${` opened a string inside an interpolation,
    # one call deeper, until the stack ran out (RecursionError).
    with pytest.raises(ScanError, match="nested too deeply"):
        list(SCANNER.scan(JENKINSFILE, 'sh "${' * 600))
    nested = 'sh "echo ${"a${"b${"c"}"}"}"\nagent { docker \'alpine:3\' }\n'
    assert found(nested) == [("alpine:3", "agent docker")]


@given(
    quote=st.sampled_from(["'", '"', "'''"]),
    newline=st.sampled_from(["\n", "\r\n"]),
    space=st.sampled_from([" ", "  ", "\t"]),
    comment=st.sampled_from(["", " // builder", " /* builder */"]),
    parens=st.booleans(),
)
def test_span_holds_the_reference(
    quote: str, newline: str, space: str, comment: str, parens: bool
) -> None:
    value = f"({quote}maven:3.9{quote})" if parens else f"{space}{quote}maven:3.9{quote}"
    lines = [
        "pipeline {",
        "  agent {",
        "    docker {",
        f"      image{value}{comment}",
        "    }",
        "  }",
        "}",
    ]
    text = newline.join(lines) + newline
    assert [text[f.start : f.end] for f in SCANNER.scan(JENKINSFILE, text)] == ["maven:3.9"]


def test_pin_round_trip_keeps_crlf_and_quotes() -> None:
    data = (
        b"pipeline {\r\n  agent { docker { image 'maven:3.9' } } // build\r\n  stages {\r\n"
        b"    stage('db') { steps { script {\r\n"
        b'      docker.image("postgres:16").withRun { c -> sh "echo ${c.id}" }\r\n'
        b"    } } }\r\n  }\r\n}"
    )
    digests = {"docker.io/library/maven:3.9": NEW, "docker.io/library/postgres:16": NEW}
    updated, result = pin_file(JENKINSFILE, data, digests)
    assert (
        updated
        == (
            f"pipeline {{\r\n  agent {{ docker {{ image 'maven:3.9@{NEW}' }} }} // build\r\n  stages {{\r\n"
            "    stage('db') { steps { script {\r\n"
            f'      docker.image("postgres:16@{NEW}").withRun {{ c -> sh "echo ${{c.id}}" }}\r\n'
            "    } } }\r\n  }\r\n}"
        ).encode()
    )
    assert len(result.edits) == 2
    assert pin_file(JENKINSFILE, updated, digests)[0] == updated
