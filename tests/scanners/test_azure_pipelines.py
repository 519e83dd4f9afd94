"""Azure Pipelines scanner: container resources, container jobs and service containers."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pinbot.scanners import ScanError, Status, scan_text
from pinbot.scanners.azure_pipelines import SCANNER
from tests.support.roundtrip import pin_file

PIPELINE = "azure-pipelines.yml"
NEW = "sha256:" + "a" * 64
OLD = "sha256:" + "b" * 64


def test_macro_runtime_and_template_expressions_are_templated() -> None:
    text = (
        "container: $(BuildImage)\nservices:\n  db: postgres:$[variables.pg]\n"
        "jobs:\n- job: a\n  container:\n    image: ${{ variables.registry }}/sdk:8\n"
    )
    outcome = scan_text(PIPELINE, text)
    assert [(o.kind, o.text, o.status) for o in outcome.occurrences] == [
        ("azure-pipelines", "$(BuildImage)", Status.TEMPLATED),
        ("azure-pipelines", "postgres:$[variables.pg]", Status.TEMPLATED),
        ("azure-pipelines", "${{ variables.registry }}/sdk:8", Status.TEMPLATED),
    ]


def test_a_pinned_image_is_rewritable_and_a_block_scalar_is_not() -> None:
    text = f"container: node:20@{NEW}\nservices:\n  db: >-\n    postgres:16\n"
    outcome = scan_text(PIPELINE, text)
    assert [(o.text, o.status, o.rewritable) for o in outcome.occurrences] == [
        (f"node:20@{NEW}", Status.PINNED, True),
        (">-\n    postgres:16", Status.UNPINNED, False),
    ]


def test_broken_yaml_is_a_scan_error() -> None:
    with pytest.raises(ScanError) as raised:
        list(SCANNER.scan(PIPELINE, "jobs:\n- job: a\n  container: [x\n"))
    assert raised.value.line is not None


@pytest.mark.parametrize(
    "text",
    [
        # Lifting the keys of `${{ if }}` into their mapping recursed without end when the
        # branch was an alias of a node holding it (RecursionError).
        'jobs: &all\n  - "${{ if true }}": *all\n',
        '&top\n"${{ if true }}": *top\ncontainer: alpine:3\n',
        # Found by tests/scanners/test_contract.py: YAML nested deeper than the composer's stack.
        "jobs:\n" + "  -" * 800 + " [a\n",
    ],
    ids=["alias-in-list", "alias-in-mapping", "deep"],
)
def test_recursive_or_too_deep_yaml_is_a_scan_error(text: str) -> None:
    with pytest.raises(ScanError):
        list(SCANNER.scan(PIPELINE, text))


@given(
    quote=st.sampled_from(["", "'", '"']),
    newline=st.sampled_from(["\n", "\r\n"]),
    comment=st.sampled_from(["", "  # sdk"]),
    mapping=st.booleans(),
)
def test_span_holds_the_reference(quote: str, newline: str, comment: str, mapping: bool) -> None:
    value = f"{quote}mcr.microsoft.com/dotnet/sdk:8.0{quote}{comment}"
    lines = (
        ["jobs:", "- job: a", "  container:", f"    image: {value}"]
        if mapping
        else [
            "jobs:",
            "- job: a",
            f"  container: {value}",
        ]
    )
    text = newline.join(lines) + newline
    assert [text[f.start : f.end] for f in SCANNER.scan(PIPELINE, text)] == [
        "mcr.microsoft.com/dotnet/sdk:8.0"
    ]


def test_pin_round_trip_keeps_crlf_quotes_and_comments() -> None:
    data = (
        b"resources:\r\n  containers:\r\n  - container: db\r\n    image: 'postgres:16'  # primary\r\n"
        b'container: "node:20"\r\nservices:\r\n  pg: db\r\n  mq: rabbitmq:3\r\n'
        b"pool:\r\n  vmImage: ubuntu-latest\r\n"
    )
    digests = {
        "docker.io/library/postgres:16": NEW,
        "docker.io/library/node:20": OLD,
        "docker.io/library/rabbitmq:3": NEW,
    }
    updated, result = pin_file(PIPELINE, data, digests)
    assert (
        updated
        == (
            f"resources:\r\n  containers:\r\n  - container: db\r\n    image: 'postgres:16@{NEW}'  # primary\r\n"
            f'container: "node:20@{OLD}"\r\nservices:\r\n  pg: db\r\n  mq: rabbitmq:3@{NEW}\r\n'
            "pool:\r\n  vmImage: ubuntu-latest\r\n"
        ).encode()
    )
    assert len(result.edits) == 3
    again, second = pin_file(PIPELINE, updated, digests)
    assert again == updated and second.edits == []
