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


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("Jenkinsfile", True),
        ("ci/Jenkinsfile", True),
        ("Jenkinsfile.release", True),
        ("nightly.Jenkinsfile", True),
        ("jenkins/deploy.jenkinsfile", True),
        ("Jenkinsfile.md", False),
        ("Jenkinsfile.txt", False),
        ("Jenkinsfiles/README", False),
        ("Dockerfile", False),
    ],
)
def test_matches(path: str, expected: bool) -> None:
    assert SCANNER.matches(path) is expected


CASES: list[tuple[str, str, list[tuple[str, str]]]] = [
    (
        "declarative agents at pipeline and stage level",
        "pipeline {\n  agent {\n    docker {\n      image 'maven:3.9-eclipse-temurin-21'\n"
        "      args '-v $HOME/.m2:/root/.m2'\n      label 'linux'\n    }\n  }\n  stages {\n"
        "    stage('Front') {\n      agent { docker \"node:20-alpine\" }\n"
        "      steps { sh 'npm ci' }\n    }\n    stage('Lint') {\n"
        "      agent { dockerContainer { image('golangci/golangci-lint:v1.59') } }\n"
        "      steps { sh 'golangci-lint run' }\n    }\n  }\n}\n",
        [
            ("maven:3.9-eclipse-temurin-21", "agent docker image"),
            ("node:20-alpine", "agent docker"),
            ("golangci/golangci-lint:v1.59", "agent dockerContainer image"),
        ],
    ),
    (
        "scripted docker.image, except images the build pushes or tags",
        "node {\n  docker.image('postgres:16').withRun('-e POSTGRES_PASSWORD=x') { c ->\n"
        '    docker.image("golang:1.22").inside("--link ${c.id}:db") {\n      sh \'go test\'\n'
        "    }\n  }\n  def app = docker.build('acme/app:${env.BUILD_ID}')\n"
        "  docker.image('acme/app:latest').push()\n  docker.image('acme/app:1').tag('stable')\n}\n",
        [("postgres:16", "docker.image"), ("golang:1.22", "docker.image")],
    ),
    (
        "Kubernetes plugin containerTemplate",
        "podTemplate(containers: [\n  containerTemplate(name: 'maven', image: 'maven:3.9', "
        "command: 'sleep', args: '99d'),\n  containerTemplate(image: \"busybox:1.36\", name: 'bb')\n]) {\n"
        "  node(POD_LABEL) { container('maven') { sh 'mvn -B package' } }\n}\n",
        [("maven:3.9", "containerTemplate image"), ("busybox:1.36", "containerTemplate image")],
    ),
]

TRAPS: list[tuple[str, str]] = [
    (
        "comments",
        "// agent { docker 'alpine:3' }\n/* docker.image('nginx:1').inside {\n} */\n"
        "pipeline { agent any // docker.image('x:1')\n}\n",
    ),
    (
        "strings and other agents",
        "pipeline {\n  agent { dockerfile { filename 'Dockerfile.ci' } }\n  stages { stage('a') {\n"
        "    agent { label 'docker' }\n    steps { sh \"docker run alpine:3 echo 'agent { docker \\\"x\\\" }'\" }\n"
        "    environment { IMAGE = 'node:20' }\n  } }\n}\n",
    ),
    (
        "image outside a docker agent",
        "pipeline { agent { kubernetes { image 'x:1' } } }\nimage 'y:2'\n",
    ),
    ("empty", ""),
]


@pytest.mark.parametrize(("name", "text", "expected"), CASES, ids=[c[0] for c in CASES])
def test_finds(name: str, text: str, expected: list[tuple[str, str]]) -> None:
    assert found(text) == expected


@pytest.mark.parametrize(("name", "text"), TRAPS, ids=[t[0] for t in TRAPS])
def test_traps(name: str, text: str) -> None:
    assert found(text) == []


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
    # Found by tests/test_scan_fuzz.py: each `"${` opened a string inside an interpolation,
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
