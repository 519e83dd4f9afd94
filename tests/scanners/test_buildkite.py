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
def test_plugin_name_is_read_without_its_version(reference: str, name: str) -> None:
    assert plugin_name(reference) == name


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


@pytest.mark.slow
@pytest.mark.parametrize(
    "text",
    [
        # Steps of a group that are an alias of a list holding the group recursed without end
        # (RecursionError).
        "steps: &all\n  - group: g\n    steps: *all\n",
        "- &step\n  steps: [*step]\n",
        # Found by tests/scanners/test_contract.py: YAML nested deeper than the composer's stack.
        "steps:\n  - command: x\n    plugins: " + "[a, " * 500 + "\n",
    ],
    ids=["group-steps", "flow-steps", "deep"],
)
def test_recursive_or_too_deep_yaml_is_a_scan_error(text: str) -> None:
    with pytest.raises(ScanError):
        list(SCANNER.scan(".buildkite/pipeline.yml", text))
