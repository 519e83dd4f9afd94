"""The dev container scanner: `image`, OCI Features, and the JSON-with-comments reader under it."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pinbot.scanners import ScanError, Status, scan_text
from pinbot.scanners._jsonc import JsonArray, JsonObject, JsonScalar, JsonString, parse_jsonc
from pinbot.scanners.devcontainer import SCANNER, is_feature_reference
from pinbot.scanners.interface import Finding
from tests.support.corpus import scan_corpus_file

PATH = ".devcontainer/devcontainer.json"


def findings(text: str) -> list[Finding]:
    found = list(SCANNER.scan(PATH, text))
    for finding in found:
        if finding.reference_text is not None:
            assert not finding.rewritable
    return found


def spans(text: str) -> list[tuple[str, str]]:
    return [(text[f.start : f.end], f.context) for f in findings(text)]


CASES: list[tuple[str, str, list[tuple[str, str]]]] = [
    (
        "image",
        '{"image": "mcr.microsoft.com/devcontainers/base:bookworm"}',
        [
            ("mcr.microsoft.com/devcontainers/base:bookworm", "image"),
        ],
    ),
    (
        "comments, trailing commas, a URL with // inside a string",
        '{\n  // "image": "commented:1",\n  /* "image": "block:2" */\n  "name": "http://x//y",\n'
        '  "image": "alpine:3.19", // trailing\n}\n',
        [("alpine:3.19", "image")],
    ),
    (
        "features keys are OCI references; local paths, URLs and short ids are not",
        '{"features": {\n  "ghcr.io/devcontainers/features/node:1": {"version": "20"},\n'
        '  "./local-feature": {},\n  "https://example.com/f.tgz": {},\n  "docker-in-docker": {},\n'
        '  "localhost:5000/f/x@sha256:' + "a" * 64 + '": {},\n}}',
        [
            ("ghcr.io/devcontainers/features/node:1", "features"),
            ("localhost:5000/f/x@sha256:" + "a" * 64, "features"),
        ],
    ),
    (
        "nested image keys are not the container image",
        '{"build": {"dockerfile": "Dockerfile", "args": {"image": "x:1"}, "cacheFrom": "y:2"},'
        ' "customizations": {"image": "z:3"}, "dockerComposeFile": "compose.yaml"}',
        [],
    ),
    ("non-string image", '{"image": 3, "features": []}', []),
    ("empty image", '{"image": ""}', []),
    ("top level is not an object", '["image", "alpine:3"]', []),
    ("empty file", "", []),
    ("only a comment", "// nothing here\n", []),
    (
        "templated image",
        '{"image": "mcr.microsoft.com/devcontainers/base:${templateOption:imageVariant}"}',
        [("mcr.microsoft.com/devcontainers/base:${templateOption:imageVariant}", "image")],
    ),
    ("duplicate key: the last one counts", '{"image": "a:1", "image": "b:2"}', [("b:2", "image")]),
]


@pytest.mark.parametrize(
    ("text", "expected"), [(c[1], c[2]) for c in CASES], ids=[c[0] for c in CASES]
)
def test_scan(text: str, expected: list[tuple[str, str]]) -> None:
    assert spans(text) == expected


def test_escaped_image_is_reported_not_rewritten() -> None:
    text = '{"image": "alpine\\u003a3.19"}'
    (finding,) = findings(text)
    assert finding.reference_text == "alpine:3.19"
    assert not finding.rewritable
    assert text[finding.start : finding.end] == "alpine\\u003a3.19"


def test_tagged_feature_is_not_rewritable_but_untagged_and_digest_ones_are() -> None:
    digest = "sha256:" + "b" * 64
    text = (
        '{"features": {"ghcr.io/a/f/go:1": {}, "ghcr.io/a/f/node": {}, '
        f'"ghcr.io/a/f/py@{digest}": {{}}, "registry:5000/a/f/rust": {{}}}}}}'
    )
    found = findings(text)
    assert [(text[f.start : f.end], f.rewritable) for f in found] == [
        ("ghcr.io/a/f/go:1", False),
        ("ghcr.io/a/f/node", True),
        (f"ghcr.io/a/f/py@{digest}", True),
        ("registry:5000/a/f/rust", True),
    ]
    assert found[0].note is not None and "tag" in found[0].note


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ('{"image": "alpine:3"\n "x": 1}', 2),
        ('{\n\n"image": "alpine:3', 3),
        ("{\n  /* open comment", 2),
        ('{"a": tru}', 1),
        ('{"a": 1} trailing', 1),
        ("{\n'single': 1}", 2),
        ('{"a": "\\q"}', 1),
        ("[" * 500, 1),
    ],
)
def test_malformed_json_is_a_scan_error_with_line(text: str, line: int) -> None:
    with pytest.raises(ScanError) as raised:
        list(SCANNER.scan(PATH, text))
    assert raised.value.line == line


def test_driver_reports_malformed_file_and_statuses() -> None:
    outcome = scan_text(PATH, '{"image": }')
    assert outcome.occurrences == [] and len(outcome.errors) == 1
    assert PATH in outcome.errors[0] and "devcontainer" in outcome.errors[0]
    outcome = scan_text(PATH, '\ufeff{"image": "alpine:3.19@sha256:' + "c" * 64 + '"}\r\n')
    assert [(o.status, o.line, o.column) for o in outcome.occurrences] == [
        (Status.PINNED, 1, 13)
    ]  # the BOM is character 1


def test_parser_values() -> None:
    node = parse_jsonc('{"a": [1, -2.5e3, true, false, null, "s\\"t"], "b": {},}')
    assert isinstance(node, JsonObject)
    array = node.get("a")
    assert isinstance(array, JsonArray)
    values = [item.value for item in array.items if isinstance(item, JsonScalar | JsonString)]
    assert values == [1.0, -2500.0, True, False, None, 's"t']
    last = array.items[-1]
    assert isinstance(last, JsonString) and last.escaped


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        (".devcontainer/devcontainer.json", True),
        ("sub/.devcontainer/devcontainer.json", True),
        (".devcontainer/python/devcontainer.json", True),
        (".devcontainer.json", True),
        ("src/x/.devcontainer.json", True),
        ("devcontainer.json", False),
        ("src/python/devcontainer-template.json", False),
        (".devcontainer/devcontainer-lock.json", False),
        (".devcontainer/a/b/devcontainer.json", False),
        ("features/src/go/devcontainer-feature.json", False),
    ],
)
def test_file_names(path: str, expected: bool) -> None:
    assert SCANNER.matches(path) is expected


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("ghcr.io/devcontainers/features/go:1", True),
        ("localhost/f/x", True),
        ("myregistry:5000/f/x", True),
        ("./local", False),
        ("../shared/feature", False),
        ("/abs/feature", False),
        ("https://example.com/feature.tgz", False),
        ("node", False),
        ("devcontainers/features/go", False),
    ],
)
def test_feature_keys(key: str, expected: bool) -> None:
    assert is_feature_reference(key) is expected


# Counted by reading each file: the top-level "image" (commented-out lines do not count) and the
# uncommented keys of "features".
CORPUS = {
    "argoproj__argo-workflows/.devcontainer/devcontainer.json": 1,
    # "build" with a Dockerfile, no image; four ghcr.io Features.
    "argoproj__argo-workflows/.devcontainer/builder/devcontainer.json": 4,
    "devcontainers__templates/.devcontainer/devcontainer.json": 2,
    "devcontainers__templates/src/kubernetes-helm/.devcontainer/devcontainer.json": 3,
    "devcontainers__templates/src/python/.devcontainer/devcontainer.json": 1,
    # Compose-based: the image lives in the compose file, "features" is commented out.
    "devcontainers__templates/src/postgres/.devcontainer/devcontainer.json": 0,
    "devcontainers__templates/src/docker-outside-of-docker-compose/.devcontainer/devcontainer.json": 1,
    "devcontainers__templates/src/docker-existing-dockerfile/.devcontainer/devcontainer.json": 0,
    # Template options, not references: not scanned at all.
    "devcontainers__templates/src/python/devcontainer-template.json": 0,
}


@pytest.mark.parametrize(("relative", "count"), CORPUS.items())
def test_corpus_counts(relative: str, count: int) -> None:
    occurrences = [o for o in scan_corpus_file(relative) if o.kind == "devcontainer"]
    assert len(occurrences) == count, [(o.line, o.text) for o in occurrences]


def test_corpus_templated_image() -> None:
    (occurrence,) = scan_corpus_file(
        "devcontainers__templates/src/python/.devcontainer/devcontainer.json"
    )
    assert (
        occurrence.text == "mcr.microsoft.com/devcontainers/python:3-${templateOption:imageVariant}"
    )
    assert occurrence.status is Status.TEMPLATED


_JSON_FILLER = st.sampled_from(["", " ", "\n", "\r\n", "\t", " // c\n", "/* c */", "\n  // x\n  "])


@given(
    reference=st.sampled_from(["alpine:3.19", "ghcr.io/a/b:1.0", "nginx@sha256:" + "d" * 64]),
    before=_JSON_FILLER,
    after=_JSON_FILLER,
    trailing=st.sampled_from(["", ","]),
    other=st.dictionaries(
        st.sampled_from(["name", "remoteUser", "x"]), st.text(max_size=8), max_size=2
    ),
)
def test_span_holds_the_image(
    reference: str, before: str, after: str, trailing: str, other: dict[str, str]
) -> None:
    members = [f'"{k}":{before}{json.dumps(v)}' for k, v in other.items()]
    members.append(f'{before}"image"{after}:{before}"{reference}"{after}')
    text = "{" + ",".join(members) + trailing + after + "}"
    found = findings(text)
    assert [text[f.start : f.end] for f in found] == [reference]
