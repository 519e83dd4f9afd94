"""Nomad scanner: Docker and Podman task images in HCL job specifications."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pinbot.scanners import ScanError, Status, scan_text
from pinbot.scanners.nomad import SCANNER
from tests.support.roundtrip import pin_file

JOB = "jobs/web.nomad.hcl"
NEW = "sha256:" + "a" * 64


def test_interpolation_and_levant_templates_are_templated() -> None:
    text = (
        'variable "tag" { default = "7" }\njob "j" {\n  group "g" {\n'
        '    task "a" {\n      driver = "docker"\n      config { image = "redis:${var.tag}" }\n    }\n'
        '    task "b" {\n      driver = "docker"\n      config { image = "[[ .app.image ]]" }\n    }\n'
        "  }\n}\n"
    )
    outcome = scan_text(JOB, text)
    assert [(o.kind, o.text, o.status) for o in outcome.occurrences] == [
        ("nomad", "redis:${var.tag}", Status.TEMPLATED),
        ("nomad", "[[ .app.image ]]", Status.TEMPLATED),
    ]


def test_escaped_string_is_reported_not_rewritten() -> None:
    text = 'task "t" {\n  driver = "docker"\n  config { image = "redis\\u003a7" }\n}\n'
    (finding,) = SCANNER.scan(JOB, text)
    assert finding.reference_text == "redis:7" and not finding.rewritable


@pytest.mark.parametrize(
    ("text", "line"),
    [('job "j" {\n  group "g" {\n', 3), ('job "j" {\n  x = "open\n}\n', 2), ("}\n", 1)],
)
def test_malformed_hcl_is_a_scan_error_with_line(text: str, line: int) -> None:
    with pytest.raises(ScanError) as raised:
        list(SCANNER.scan(JOB, text))
    assert raised.value.line == line


@pytest.mark.parametrize(
    ("text", "message"),
    [
        # Found by tests/scanners/test_contract.py (RecursionError): a piece of a job repeated.
        ('job "j" {\n' + "task {\n" * 1200, "blocks nested too deeply"),
        ('job "j" {\n  x = "' + '${"' * 600, "strings nested too deeply"),
    ],
    ids=["blocks", "strings"],
)
def test_nesting_without_end_is_a_scan_error(text: str, message: str) -> None:
    with pytest.raises(ScanError, match=message):
        list(SCANNER.scan(JOB, text))


@given(
    newline=st.sampled_from(["\n", "\r\n"]),
    space=st.sampled_from([" ", "", "\t", "   "]),
    comment=st.sampled_from(["", " # c", " // c", " /* c */"]),
    podman=st.booleans(),
)
def test_span_holds_the_reference(newline: str, space: str, comment: str, podman: bool) -> None:
    driver, prefix = ("podman", "docker://") if podman else ("docker", "")
    lines = [
        'task "t" {',
        f'  driver{space}={space}"{driver}"{comment}',
        f"  config {{{comment}",
        f'    image{space}={space}"{prefix}nginx:1.27"{comment}',
        "  }",
        "}",
    ]
    text = newline.join(lines) + newline
    assert [text[f.start : f.end] for f in SCANNER.scan(JOB, text)] == ["nginx:1.27"]


def test_pin_round_trip_keeps_crlf_and_transport() -> None:
    data = (
        b'job "j" {\r\n  group "g" {\r\n    task "a" {\r\n      driver = "docker"\r\n'
        b'      config { image = "redis:7" } # cache\r\n    }\r\n    task "b" {\r\n'
        b'      driver = "podman"\r\n      config {\r\n        image = "docker://nginx:1.27"\r\n'
        b"      }\r\n    }\r\n  }\r\n}"
    )
    digests = {"docker.io/library/redis:7": NEW, "docker.io/library/nginx:1.27": NEW}
    updated, result = pin_file(JOB, data, digests)
    assert (
        updated
        == (
            'job "j" {\r\n  group "g" {\r\n    task "a" {\r\n      driver = "docker"\r\n'
            f'      config {{ image = "redis:7@{NEW}" }} # cache\r\n    }}\r\n    task "b" {{\r\n'
            f'      driver = "podman"\r\n      config {{\r\n        image = "docker://nginx:1.27@{NEW}"\r\n'
            "      }\r\n    }\r\n  }\r\n}"
        ).encode()
    )
    assert len(result.edits) == 2
    assert pin_file(JOB, updated, digests)[0] == updated
