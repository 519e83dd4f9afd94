"""Buildkite scanner: hosted-agent images, the Docker plugin, Kubernetes plugin containers."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pinbot.scanners import ScanError, Status, scan_text
from pinbot.scanners.buildkite import SCANNER, plugin_name
from tests.support.roundtrip import pin_file

PIPELINE = ".buildkite/pipeline.yml"
NEW = "sha256:" + "a" * 64


def found(text: str) -> list[tuple[str, str]]:
    return [(text[f.start : f.end], f.context) for f in SCANNER.scan(PIPELINE, text)]


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        (".buildkite/pipeline.yml", True),
        (".buildkite/pipeline.yaml", True),
        (".buildkite/pipeline.release.yml", True),
        ("org__repo/.buildkite/pipeline-nightly.yml", True),
        (".buildkite/pipelines/deploy.yml", True),
        ("buildkite.yml", True),
        (".buildkite.yaml", True),
        (".buildkite/docker-compose.yml", False),
        (".buildkite/hooks/pre-command", False),
        (".buildkite/pipeline.sh", False),
        ("pipeline.yml", False),
        ("buildkite.yml.bak", False),
    ],
)
def test_matches(path: str, expected: bool) -> None:
    assert SCANNER.matches(path) is expected


@pytest.mark.parametrize(
    ("reference", "name"),
    [
        ("docker#v5.13.0", "docker"),
        ("docker", "docker"),
        ("buildkite-plugins/docker#v5", "docker"),
        ("https://github.com/buildkite-plugins/docker-buildkite-plugin.git#v5.1.0", "docker"),
        ("docker-compose#v5.0.0", "docker-compose"),
        ("acme/docker-login#v2", "docker-login"),
    ],
)
def test_plugin_names(reference: str, name: str) -> None:
    assert plugin_name(reference) == name


CASES: list[tuple[str, str, list[tuple[str, str]]]] = [
    (
        "Docker plugin in the list form, by short name and by URL",
        "steps:\n  - label: test\n    command: go test ./...\n    plugins:\n"
        '      - docker#v5.13.0:\n          image: "golang:1.22"\n          always-pull: true\n'
        "  - wait\n  - command: make\n    plugins:\n"
        "      - https://github.com/buildkite-plugins/docker-buildkite-plugin.git#v5.13.0:\n"
        "          image: node:20\n",
        [
            ("golang:1.22", "steps[0].plugins.docker#v5.13.0.image"),
            (
                "node:20",
                "steps[2].plugins.https://github.com/buildkite-plugins/docker-buildkite-plugin.git#v5.13.0.image",
            ),
        ],
    ),
    (
        "hosted agent images at pipeline and step level, groups",
        "image: ubuntu:24.04\nagents:\n  queue: hosted\nsteps:\n  - group: lint\n    steps:\n"
        "      - command: ruff check\n        image: python:3.12-slim\n",
        [
            ("ubuntu:24.04", "image"),
            ("python:3.12-slim", "steps[0].steps[0].image"),
        ],
    ),
    (
        "older map form of plugins and a pipeline written as a list of steps",
        "- command: rake\n  plugins:\n    docker#v1.4.0:\n      image: ruby:3.3\n",
        [("ruby:3.3", "steps[0].plugins.docker#v1.4.0.image")],
    ),
    (
        "Kubernetes plugin containers",
        "steps:\n  - command: make\n    plugins:\n      - kubernetes:\n          podSpec:\n"
        "            initContainers:\n              - image: busybox:1.36\n"
        "            containers:\n              - image: golang:1.22\n"
        "          sidecars:\n            - image: redis:7\n",
        [
            ("busybox:1.36", "steps[0].plugins.kubernetes.podSpec.initContainers[0].image"),
            ("golang:1.22", "steps[0].plugins.kubernetes.podSpec.containers[0].image"),
            ("redis:7", "steps[0].plugins.kubernetes.sidecars[0].image"),
        ],
    ),
]

TRAPS: list[tuple[str, str]] = [
    (
        "Docker Compose plugin options",
        "steps:\n  - plugins:\n      - docker-compose#v5.0.0:\n          run: app\n"
        "          image-repository: acme/ci\n          cache-from: [app:acme/ci:cache]\n"
        "          build: app\n",
    ),
    (
        "other plugins, agents and env",
        "env:\n  IMAGE: node:20\nsteps:\n  - command: make\n    agents:\n      image: linux\n"
        "    plugins:\n      - ecr#v2.7.0:\n          login: true\n      - acme/deploy#v1:\n"
        "          image: acme/app:1\n      - docker-login#v2\n",
    ),
    ("wait and block steps", "steps:\n  - wait\n  - block: ship?\n  - trigger: deploy\n"),
    (
        "odd shapes",
        "steps: 3\n---\nplugins: [docker]\n---\nsteps:\n  - plugins: [[a]]\n  - plugins: {docker: 3}\n",
    ),
]


@pytest.mark.parametrize(("name", "text", "expected"), CASES, ids=[c[0] for c in CASES])
def test_finds(name: str, text: str, expected: list[tuple[str, str]]) -> None:
    assert found(text) == expected


@pytest.mark.parametrize(("name", "text"), TRAPS, ids=[t[0] for t in TRAPS])
def test_traps(name: str, text: str) -> None:
    assert found(text) == []


def test_interpolated_and_matrix_images_are_templated() -> None:
    text = (
        "steps:\n  - command: make\n    image: 'node:{{matrix}}'\n    matrix: ['18', '20']\n"
        "    plugins:\n      - docker#v5:\n          image: $BUILDKITE_PLUGIN_IMAGE\n"
    )
    outcome = scan_text(PIPELINE, text)
    assert [(o.kind, o.text, o.status) for o in outcome.occurrences] == [
        ("buildkite", "node:{{matrix}}", Status.TEMPLATED),
        ("buildkite", "$BUILDKITE_PLUGIN_IMAGE", Status.TEMPLATED),
    ]


@given(
    quote=st.sampled_from(["", "'", '"']),
    newline=st.sampled_from(["\n", "\r\n"]),
    comment=st.sampled_from(["", "  # go"]),
)
def test_span_holds_the_reference(quote: str, newline: str, comment: str) -> None:
    lines = [
        "steps:",
        "  - command: go test",
        "    plugins:",
        "      - docker#v5.13.0:",
        f"          image: {quote}golang:1.22{quote}{comment}",
    ]
    text = newline.join(lines) + newline
    assert [text[f.start : f.end] for f in SCANNER.scan(PIPELINE, text)] == ["golang:1.22"]


def test_pin_round_trip_keeps_crlf_and_quotes() -> None:
    data = (
        b"image: 'ubuntu:24.04'\r\nsteps:\r\n  - command: make\r\n    plugins:\r\n"
        b'      - docker#v5.13.0:\r\n          image: "golang:1.22"  # builder\r\n'
        b"      - docker-compose#v5.0.0:\r\n          run: app\r\n"
    )
    digests = {"docker.io/library/ubuntu:24.04": NEW, "docker.io/library/golang:1.22": NEW}
    updated, result = pin_file(PIPELINE, data, digests)
    assert (
        updated
        == (
            f"image: 'ubuntu:24.04@{NEW}'\r\nsteps:\r\n  - command: make\r\n    plugins:\r\n"
            f'      - docker#v5.13.0:\r\n          image: "golang:1.22@{NEW}"  # builder\r\n'
            "      - docker-compose#v5.0.0:\r\n          run: app\r\n"
        ).encode()
    )
    assert len(result.edits) == 2
    assert pin_file(PIPELINE, updated, digests)[0] == updated


@pytest.mark.parametrize(
    "text",
    [
        # Steps of a group that are an alias of a list holding the group recursed without end
        # (RecursionError).
        "steps: &all\n  - group: g\n    steps: *all\n",
        "- &step\n  steps: [*step]\n",
        # Found by tests/test_scan_fuzz.py: YAML nested deeper than the composer's stack.
        "steps:\n  - command: x\n    plugins: " + "[a, " * 500 + "\n",
    ],
    ids=["group-steps", "flow-steps", "deep"],
)
def test_recursive_or_too_deep_yaml_is_a_scan_error(text: str) -> None:
    with pytest.raises(ScanError):
        list(SCANNER.scan(".buildkite/pipeline.yml", text))
