"""The Docker Bake scanner: image contexts, image build args, variable defaults, inline Dockerfiles."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pinbot.scanners import ScanError, Status, scan_text
from pinbot.scanners._registry import scanner_of_kind
from pinbot.scanners.bake import is_image_arg
from pinbot.scanners.interface import Finding
from tests.scanners.tables.bake import CORPUS
from tests.support.corpus import scan_corpus_file

SCANNER = scanner_of_kind("bake")


def findings(text: str, path: str = "docker-bake.hcl") -> list[Finding]:
    found = list(SCANNER.scan(path, text))
    for finding in found:
        if finding.rewritable:
            assert finding.reference_text is None
    return found


def spans(text: str, path: str = "docker-bake.hcl") -> list[tuple[str, str]]:
    return [(text[f.start : f.end], f.context) for f in findings(text, path)]


def test_variable_used_elsewhere_is_not_rewritable() -> None:
    text = (
        'variable "BASE" { default = "alpine:3.19" }\n'
        'target "a" {\n  args = { BASE_IMAGE = BASE }\n  tags = ["me/app:${BASE}"]\n}\n'
    )
    (finding,) = findings(text)
    assert text[finding.start : finding.end] == "alpine:3.19"
    assert not finding.rewritable
    assert finding.note is not None and "BASE" in finding.note


def test_escaped_strings_are_reported_not_rewritten() -> None:
    text = 'target "a" {\n  contexts = { x = "docker-image://alpine\\u003a3" }\n  args = { BASE = "a\\tb" }\n}\n'
    found = findings(text)
    assert len(found) == 1
    assert found[0].reference_text == "alpine:3" and not found[0].rewritable


def test_inline_dockerfile_in_an_escaped_string_maps_spans_back() -> None:
    text = 'target "a" {\n  dockerfile-inline = "FROM alpine:3.19\\nRUN echo \\"x\\"\\nFROM nginx:1.27"\n}\n'
    found = findings(text)
    assert [(text[f.start : f.end], f.rewritable) for f in found] == [
        ("alpine:3.19", True),
        ("nginx:1.27", True),
    ]


def test_a_json_bake_file_gives_variables_contexts_and_inline_dockerfiles() -> None:
    document = {
        "variable": {"BASE": {"default": "alpine:3.19"}, "REG": {"default": "ghcr.io"}},
        "target": {
            "app": {
                "args": {"BASE_IMAGE": "${BASE}", "VERSION": "1"},
                "contexts": {"node": "docker-image://node:20", "src": "./src"},
                "tags": ["acme/app:1"],
                "dockerfile-inline": "FROM golang:1.22\nRUN true\n",
            }
        },
    }
    text = json.dumps(document, indent=2)
    assert sorted(spans(text, "docker-bake.json")) == sorted(
        [
            ("alpine:3.19", 'variable BASE (used by target "app" args.BASE_IMAGE)'),
            ("node:20", 'target "app" contexts.node'),
            ("golang:1.22", 'target "app" dockerfile-inline FROM'),
        ]
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        # Found by tests/scanners/test_contract.py (RecursionError): a piece of a file repeated.
        ('target "a" {\n' + "x {\n" * 1200, "blocks nested too deeply"),
        ('BASE = "' + '${"' * 600, "strings nested too deeply"),
    ],
    ids=["blocks", "strings"],
)
def test_nesting_without_end_is_a_scan_error(text: str, message: str) -> None:
    with pytest.raises(ScanError, match=message):
        list(SCANNER.scan("docker-bake.hcl", text))


def test_statuses_of_pinned_unpinned_and_templated_values() -> None:
    digest = "sha256:" + "b" * 64
    text = (
        f'target "a" {{\n  contexts = {{ a = "docker-image://alpine:3@{digest}" }}\n'
        '  args = { BASE_IMAGE = "python:3.12", RUN_IMAGE = "${R}/x:1" }\n}\n'
    )
    outcome = scan_text("docker-bake.hcl", text)
    assert outcome.errors == []
    assert [(o.text, o.status, o.line) for o in outcome.occurrences] == [
        (f"alpine:3@{digest}", Status.PINNED, 2),
        ("python:3.12", Status.UNPINNED, 3),
        ("${R}/x:1", Status.TEMPLATED, 3),
    ]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("BASE_IMAGE", True),
        ("image", True),
        ("BASE", True),
        ("NODE_BASE", True),
        ("DATABASE", False),
        ("BASEDIR", False),
    ],
)
def test_an_arg_is_an_image_arg_when_its_name_says_image_or_base(name: str, expected: bool) -> None:
    assert is_image_arg(name) is expected


@pytest.mark.parametrize(("relative", "count"), CORPUS.items())
def test_real_bake_files_build_every_base_image_from_variables(relative: str, count: int) -> None:
    occurrences = scan_corpus_file(relative)
    assert [o.kind for o in occurrences] == ["bake"] * count
    assert all(o.status is Status.TEMPLATED for o in occurrences)
    assert all(o.text.startswith("${RUNNER_IMAGES_REGISTRY}/runner") for o in occurrences)


@given(
    reference=st.sampled_from(["alpine:3.19", "ghcr.io/a/b:1.0", "nginx@sha256:" + "d" * 64]),
    space=st.sampled_from([" ", "", "  ", "\t"]),
    newline=st.sampled_from(["\n", "\r\n"]),
    comment=st.sampled_from(["", "# c", "// c", "/* c */"]),
    as_variable=st.booleans(),
    separator=st.sampled_from(["=", ":"]),
)
def test_span_holds_the_reference(
    reference: str, space: str, newline: str, comment: str, as_variable: bool, separator: str
) -> None:
    if as_variable:
        text = (
            f'variable "IMG" {{{newline}  default{space}={space}"docker-image://{reference}" {comment}{newline}}}{newline}'
            f'target "t" {{{newline}  contexts{space}={space}{{ base{space}{separator}{space}IMG }}{newline}}}{newline}'
        )
    else:
        text = (
            f'{comment}{newline}target "t" {{ {comment}{newline}  contexts{space}={space}{{{newline}'
            f'    base{space}{separator}{space}"docker-image://{reference}",{comment}{newline}  }}{newline}}}{newline}'
        )
    found = findings(text)
    assert [text[f.start : f.end] for f in found] == [reference]
    assert found[0].rewritable


def test_an_inline_dockerfile_image_written_with_escapes_spans_the_whole_escape() -> None:
    text = 'target "x" {\n  dockerfile-inline = "FROM alpine:3\\u00e9\\nRUN true\\n"\n}\n'
    (occurrence,) = scan_text("docker-bake.hcl", text).occurrences
    assert occurrence.text == "alpine:3\\u00e9"
    assert not occurrence.rewritable
