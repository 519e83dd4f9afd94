"""Cloud Build scanner: each step's builder image, in YAML and JSON."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pinbot.scanners import Status, scan_text
from pinbot.scanners.cloudbuild import SCANNER
from tests.support.corpus import scan_corpus_file


def found(text: str, path: str = "cloudbuild.yaml") -> list[tuple[str, str]]:
    return [(text[f.start : f.end], f.context) for f in SCANNER.scan(path, text)]


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("cloudbuild.yaml", True),
        ("cloudbuild.yml", True),
        ("cloudbuild.json", True),
        ("ci/cloudbuild-pr.yaml", True),
        ("build.yaml", False),
        ("cloudbuild.sh", False),
    ],
)
def test_matches(path: str, expected: bool) -> None:
    assert SCANNER.matches(path) is expected


def test_yaml_steps() -> None:
    text = (
        "steps:\n- id: build\n  name: 'gcr.io/cloud-builders/docker'\n  args: [build, -t, gcr.io/p/app, .]\n"
        "- name: gcr.io/k8s-skaffold/skaffold:v2.16.1  # deploy\n  entrypoint: bash\n"
        "images: [gcr.io/$PROJECT_ID/app]\n"
    )
    assert found(text) == [
        ("gcr.io/cloud-builders/docker", "steps[0].name"),
        ("gcr.io/k8s-skaffold/skaffold:v2.16.1", "steps[1].name"),
    ]


def test_json_steps() -> None:
    text = '{\n  "steps": [\n    {"name": "gcr.io/cloud-builders/gcloud", "args": ["version"]}\n  ],\n  "images": ["gcr.io/p/x"]\n}\n'
    assert found(text, "cloudbuild.json") == [("gcr.io/cloud-builders/gcloud", "steps[0].name")]


@pytest.mark.parametrize(
    "text",
    [
        "images:\n- gcr.io/$PROJECT_ID/app\nartifacts:\n  objects:\n    location: gs://b\n",
        "options:\n  machineType: N1_HIGHCPU_8\ntimeout: 3600s\n",
        "steps:\n- id: only-an-id\n- [a]\n- name: ''\n",
        "- name: gcr.io/x\n",
    ],
)
def test_traps(text: str) -> None:
    assert found(text) == []


def test_substitutions_are_templated() -> None:
    outcome = scan_text("cloudbuild.yaml", "steps:\n- name: $_BUILDER\n")
    assert [(o.kind, o.status) for o in outcome.occurrences] == [("cloudbuild", Status.TEMPLATED)]


@given(
    quote=st.sampled_from(["", "'", '"']),
    newline=st.sampled_from(["\n", "\r\n"]),
    indent=st.integers(min_value=0, max_value=4),
)
def test_span_holds_the_reference(quote: str, newline: str, indent: int) -> None:
    pad = " " * indent
    text = (
        newline.join(
            [
                "steps:",
                f"{pad}- name: {quote}gcr.io/cloud-builders/npm:20{quote}",
                f"{pad}  args: [ci]",
            ]
        )
        + newline
    )
    assert [text[f.start : f.end] for f in SCANNER.scan("cloudbuild.yaml", text)] == [
        "gcr.io/cloud-builders/npm:20"
    ]


# Read: one step, `gcr.io/k8s-skaffold/skaffold:v2.16.1`; `--default-repo=gcr.io/…` in its
# folded args is an argument, not a step image.
CORPUS = {"GoogleCloudPlatform__microservices-demo/cloudbuild.yaml": 1}


@pytest.mark.corpus
@pytest.mark.parametrize(("relative", "count"), sorted(CORPUS.items()))
def test_corpus(relative: str, count: int) -> None:
    assert len([o for o in scan_corpus_file(relative) if o.kind == "cloudbuild"]) == count
