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


def found(text: str) -> list[tuple[str, str]]:
    return [(text[f.start : f.end], f.context) for f in SCANNER.scan(PIPELINE, text)]


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("azure-pipelines.yml", True),
        ("azure-pipelines.yaml", True),
        ("azure-pipelines-release.yml", True),
        ("org__repo/azure-pipelines.yml", True),
        (".azure-pipelines/ci.yml", True),
        (".azure-pipelines/templates/jobs/build.yaml", True),
        ("azure-pipelines/templates/steps.yml", True),
        (".pipelines/OneBranch.Official.yml", True),
        (".azuredevops/pr.yml", True),
        ("azure-pipelines.md", False),
        (".azure-pipelines/README.md", False),
        ("pipelines/ci.yml", False),
        ("bitbucket-pipelines.yml", False),
        (".github/workflows/ci.yml", False),
    ],
)
def test_matches(path: str, expected: bool) -> None:
    assert SCANNER.matches(path) is expected


CASES: list[tuple[str, str, list[tuple[str, str]]]] = [
    (
        "container job given an image, service containers by alias",
        "resources:\n  containers:\n  - container: builder\n    image: buildpack-deps:focal\n"
        "  - container: nginx\n    image: 'nginx:1.27'\n    ports: [8080:80]\n"
        "pool:\n  vmImage: ubuntu-latest\ncontainer: builder\nservices:\n  web: nginx\n"
        "steps:\n- script: curl web\n  target: builder\n",
        [
            ("buildpack-deps:focal", "resources.containers[0].image"),
            ("nginx:1.27", "resources.containers[1].image"),
        ],
    ),
    (
        "container and services written as images",
        "pool:\n  vmImage: ubuntu-22.04\ncontainer: ubuntu:22.04\nservices:\n"
        '  db: postgres:16\n  cache: "redis:7"\n',
        [
            ("ubuntu:22.04", "container"),
            ("postgres:16", "services.db"),
            ("redis:7", "services.cache"),
        ],
    ),
    (
        "jobs and deployment jobs in stages, container as a mapping",
        "stages:\n- stage: Build\n  jobs:\n  - job: Linux\n    container:\n"
        "      image: mcr.microsoft.com/dotnet/sdk:8.0\n      options: --user 0\n"
        "      endpoint: acr-connection\n  - deployment: Ship\n    environment: prod\n"
        "    container: alpine:3.20\n    strategy:\n      runOnce:\n        deploy:\n"
        "          steps: [{script: echo}]\n",
        [
            ("mcr.microsoft.com/dotnet/sdk:8.0", "stages[0].jobs[0].container.image"),
            ("alpine:3.20", "stages[0].jobs[1].container"),
        ],
    ),
    (
        "conditional insertion keys and items",
        "jobs:\n- job: A\n  ${{ if eq(parameters.linux, true) }}:\n    container: node:20\n"
        "  ${{ else }}:\n    container: mcr.microsoft.com/windows/servercore:ltsc2022\n"
        "- ${{ if parameters.extra }}:\n  - job: B\n    services:\n      ${{ if true }}:\n"
        "        mq: rabbitmq:3\n",
        [
            ("node:20", "jobs[0].container"),
            ("mcr.microsoft.com/windows/servercore:ltsc2022", "jobs[0].container"),
            ("rabbitmq:3", "jobs[1].services.mq"),
        ],
    ),
    (
        "a template file of jobs",
        "parameters:\n- name: image\n  default: golang:1.22\njobs:\n- job: test\n"
        "  container: ${{ parameters.image }}\n- template: other.yml\n  parameters:\n"
        "    container: python:3.12\n",
        [("${{ parameters.image }}", "jobs[0].container")],
    ),
]

TRAPS: list[tuple[str, str]] = [
    (
        "VM images of hosted pools",
        "pool:\n  vmImage: ubuntu-latest\njobs:\n- job: a\n  pool:\n    vmImage: windows-2022\n",
    ),
    (
        "aliases, step targets and ACR resources",
        "resources:\n  containers:\n  - container: acr\n    type: ACR\n    azureSubscription: sub\n"
        "    resourceGroup: rg\n    registry: reg\n    repository: app\n"
        "container: acr\nservices:\n  svc: acr\nsteps:\n- script: make\n  target: host\n",
    ),
    (
        "Docker task inputs and template references",
        "steps:\n- task: Docker@2\n  inputs:\n    repository: acme/app\n    command: buildAndPush\n"
        "    tags: $(Build.BuildId)\n- template: steps/image.yml\n  parameters:\n    image: node:20\n",
    ),
    (
        "odd shapes",
        "container: [a]\nservices: x\njobs: 3\n---\n- container: x\n---\nstages:\n- [a]\n",
    ),
    ("empty", ""),
]


@pytest.mark.parametrize(("name", "text", "expected"), CASES, ids=[c[0] for c in CASES])
def test_finds(name: str, text: str, expected: list[tuple[str, str]]) -> None:
    assert found(text) == expected


@pytest.mark.parametrize(("name", "text"), TRAPS, ids=[t[0] for t in TRAPS])
def test_traps(name: str, text: str) -> None:
    assert found(text) == []


def test_templated_values() -> None:
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


def test_statuses_and_block_scalars() -> None:
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
        # Found by tests/test_scan_fuzz.py: YAML nested deeper than the composer's stack.
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
