"""The YAML node layer the scanners share: positions, spans, merges, and the fallback composer."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from pinbot.scanners import ScanError, scan_text
from pinbot.scanners._yaml import (
    compose_documents,
    format_path,
    map_get,
    map_items,
    scalar_span,
    scalar_value,
    walk,
    written_span,
)


def span_text(text: str, key: str) -> str | None:
    (root,), offset = compose_documents(text)
    node = map_get(root, key)
    span = scalar_span(node, text, offset)  # type: ignore[arg-type]
    return None if span is None else text[span[0] : span[1]]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("image: nginx:1.27\n", "nginx:1.27"),
        ("image: 'nginx:1.27'  # c\n", "nginx:1.27"),
        ('image: "nginx:1.27"\r\n', "nginx:1.27"),
        ("\ufeffimage: nginx:1.27\n", "nginx:1.27"),
        ("a: é\nimage: \"日本/x:1\"\n", "日本/x:1"),
        ('image: "nginx\\u003a1"\n', None),  # an escape: the written text is not the value
        ("image: 'it''s'\n", None),
        ("image: |\n  nginx:1.27\n", None),
        ("image: >-\n  nginx:1.27\n", None),
        ("image: nginx\n  :1.27\n", None),  # a multi-line plain scalar
    ],
)
def test_scalar_span_is_the_value_as_written_or_none(text: str, expected: str | None) -> None:
    assert span_text(text, "image") == expected


def test_libyaml_refusals_fall_back_to_the_pure_composer() -> None:
    text = "\ufeffbuild:\n  cache_from: [acme/api:cache]\nimage: acme/api:1\n"
    assert span_text(text, "image") == "acme/api:1"


def test_broken_yaml_raises_with_the_line() -> None:
    with pytest.raises(ScanError) as caught:
        compose_documents("a: 1\nb: [unclosed\nc: 2\n")
    assert caught.value.line is not None and caught.value.line >= 2
    assert "cannot parse YAML" in str(caught.value)


def test_merge_keys_are_followed_and_own_keys_win() -> None:
    (root,), _ = compose_documents(
        "base: &b {image: a:1, name: base}\nsvc:\n  <<: *b\n  name: svc\n"
    )
    svc = map_get(root, "svc")
    assert [(k, scalar_value(v)) for k, _, v in map_items(svc)] == [("name", "svc"), ("image", "a:1")]


def test_walk_visits_an_anchored_node_once() -> None:
    (root,), _ = compose_documents("a: &x {image: n:1}\nb: *x\nc: [*x]\n")
    images = [format_path(path) for path, node in walk(root) if scalar_value(node) == "n:1"]
    assert images == ["a.image"]
    assert format_path(("spec", "containers", 0, "image")) == "spec.containers[0].image"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("image: nginx:1.27\n", "nginx:1.27"),
        ("image: 'it''s'  # c\n", "'it''s'"),
        ('image: "nginx\\u003a1"\r\n', '"nginx\\u003a1"'),
        ("image: |\n  nginx:1.27\n\n\nnext: 1\n", "|\n  nginx:1.27"),
        ("image: >-\r\n  nginx:1.27\r\n", ">-\r\n  nginx:1.27"),
        ("\ufeffimage: nginx\n  :1.27\n", "nginx\n  :1.27"),
        ("image: |\n  nginx:1.27", "|\n  nginx:1.27"),
    ],
)
def test_written_span_is_the_scalar_as_written(text: str, expected: str) -> None:
    (root,), offset = compose_documents(text)
    start, end = written_span(map_get(root, "image"), text, offset)  # type: ignore[arg-type]
    assert text[start:end] == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("image: &go 'golang:1.22'\n", "golang:1.22"),
        ("image: &go golang:1.22\n", "golang:1.22"),
        ("image: !!str golang:1.22\n", "golang:1.22"),
        ('image: &x !!str "q:1"\n', "q:1"),
        ("image: ''\n", ""),
    ],
)
def test_anchors_and_tags_before_a_value_are_not_part_of_its_span(text: str, expected: str) -> None:
    assert span_text(text, "image") == expected


YAML_PATHS = [
    "docker-compose.yml",
    "k8s/deployment.yaml",
    ".gitlab-ci.yml",
    ".github/workflows/ci.yml",
    "azure-pipelines.yml",
    ".woodpecker.yml",
    ".buildkite/pipeline.yml",
    "ci/pipeline.yml",
    "charts/app/values.yaml",
]


@pytest.mark.parametrize("path", YAML_PATHS)
@pytest.mark.parametrize(
    "text",
    [
        # A merge key naming the mapping that holds it: following merges recursed without end.
        "&base\n<<: *base\nimage: alpine:3\n",
        "services: &s\n  web:\n    <<: [*s]\n    image: alpine:3\n",
        # Found by the fuzz test in test_contract.py: YAML nested deeper than the pure composer's stack.
        "steps:\n" + "  -" * 800 + " x\n  - [a\n",
    ],
    ids=["self-merge", "merge-of-ancestor", "deep"],
)
def test_yaml_that_cannot_be_walked_is_refused_not_a_crash(path: str, text: str) -> None:
    # Reported as an error by the scanners a path names; YAML of unknown kind is passed over.
    assert scan_text(path, text).occurrences == []


def test_yaml_nested_past_the_c_stack_is_refused_not_a_crash() -> None:
    # libyaml's composer recursed once per level in C: tens of thousands of levels killed the
    # process (SIGSEGV). A child process, so that a regression fails this test, not the run.
    program = (
        "from pinbot.scanners import scan_text\n"
        "for text in ('[' * 200000, '- ' * 100000 + 'x', '{a: ' * 100000):\n"
        "    assert 'nested too deeply' in scan_text('docker-compose.yml', text).errors[0].message\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", program], cwd=Path(__file__).parents[2], check=False
    )
    assert done.returncode == 0
