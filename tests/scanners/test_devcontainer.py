"""The dev container scanner: `image`, OCI Features, and the JSON-with-comments reader under it."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pinbot.scanners import Status, scan_text
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


def test_driver_reports_malformed_file_and_statuses() -> None:
    outcome = scan_text(PATH, '{"image": }')
    assert outcome.occurrences == [] and len(outcome.errors) == 1
    assert outcome.errors[0].file == PATH and "devcontainer" in str(outcome.errors[0])
    outcome = scan_text(PATH, '\ufeff{"image": "alpine:3.19@sha256:' + "c" * 64 + '"}\r\n')
    assert [(o.status, o.line, o.column) for o in outcome.occurrences] == [
        (Status.PINNED, 1, 13)
    ]  # the BOM is character 1


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
def test_oci_feature_keys_are_references_and_local_ones_are_not(key: str, expected: bool) -> None:
    assert is_feature_reference(key) is expected


def test_a_template_option_in_a_real_file_is_templated() -> None:
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
