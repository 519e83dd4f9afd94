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


def found(text: str) -> list[tuple[str, str]]:
    return [(text[f.start : f.end], f.context) for f in SCANNER.scan(JOB, text)]


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("web.nomad", True),
        ("jobs/web.nomad.hcl", True),
        ("org__repo/deploy/API.NOMAD", True),
        ("docker-bake.hcl", False),
        ("main.tf", False),
        ("nomad.hcl", False),
        ("web.nomad.json", False),
    ],
)
def test_matches(path: str, expected: bool) -> None:
    assert SCANNER.matches(path) is expected


CASES: list[tuple[str, str, list[tuple[str, str]]]] = [
    (
        "docker tasks in groups, driver after config, single-line config",
        'job "web" {\n  datacenters = ["dc1"]\n  group "app" {\n    count = 2\n'
        '    network {\n      port "http" { to = 8080 }\n    }\n    task "api" {\n'
        '      driver = "docker"\n      config {\n        image = "ghcr.io/acme/api:1.4"\n'
        '        ports = ["http"]\n        args  = [\n          "--port", "8080",\n        ]\n'
        '      }\n    }\n    task "cache" {\n      config { image = "redis:7" }\n'
        '      driver = "docker"\n    }\n  }\n}\n',
        [
            ("ghcr.io/acme/api:1.4", 'job "web" group "app" task "api" config.image'),
            ("redis:7", 'job "web" group "app" task "cache" config.image'),
        ],
    ),
    (
        "podman with and without the docker transport, a Connect sidecar",
        'job "j" {\n  group "g" {\n    task "a" {\n      driver = "podman"\n'
        '      config {\n        image = "docker://docker.io/library/nginx:1.27"\n      }\n    }\n'
        '    task "b" {\n      driver = "podman"\n      config { image = "quay.io/acme/b:2" }\n'
        "    }\n    service {\n      connect {\n        sidecar_task {\n"
        '          driver = "docker"\n          config { image = "envoyproxy/envoy:v1.30.1" }\n'
        "        }\n      }\n    }\n  }\n}\n",
        [
            ("docker.io/library/nginx:1.27", 'job "j" group "g" task "a" config.image'),
            ("quay.io/acme/b:2", 'job "j" group "g" task "b" config.image'),
            (
                "envoyproxy/envoy:v1.30.1",
                'job "j" group "g" service connect sidecar_task config.image',
            ),
        ],
    ),
]

TRAPS: list[tuple[str, str]] = [
    (
        "other drivers and transports",
        'job "j" {\n  group "g" {\n    task "e" {\n      driver = "exec"\n'
        '      config { command = "/bin/app"\n image = "alpine:3" }\n    }\n'
        '    task "o" {\n      driver = "podman"\n      config { image = "oci-archive:/tmp/app.tar" }\n'
        "    }\n  }\n}\n",
    ),
    (
        "images outside config, templates and comments",
        '# config { image = "a:1" }\n// driver = "docker"\n/* task "x" { driver = "docker" '
        'config { image = "b:1" } } */\njob "j" {\n  meta { image = "c:1" }\n'
        '  group "g" {\n    task "t" {\n      driver = "docker"\n      meta { image = "d:1" }\n'
        '      template {\n        data = <<EOH\nimage = "e:1"\nEOH\n        destination = "x"\n'
        "      }\n      config {\n        image = var.image\n      }\n    }\n  }\n}\n",
    ),
    (
        "a driver given by a variable",
        'task "t" {\n  driver = var.driver\n  config { image = "f:1" }\n}\n',
    ),
    ("empty", ""),
]


@pytest.mark.parametrize(("name", "text", "expected"), CASES, ids=[c[0] for c in CASES])
def test_finds(name: str, text: str, expected: list[tuple[str, str]]) -> None:
    assert found(text) == expected


@pytest.mark.parametrize(("name", "text"), TRAPS, ids=[t[0] for t in TRAPS])
def test_traps(name: str, text: str) -> None:
    assert found(text) == []


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
        # Found by tests/test_scan_fuzz.py (RecursionError): a piece of a job repeated.
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
