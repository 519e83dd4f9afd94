"""The Kubernetes scanner: image fields of manifests at any depth, and the traps beside them."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pinbot.scanners import ScanError, Status, scan_text
from pinbot.scanners.kubernetes import SCANNER
from tests.scanners.tables.kubernetes import ARGO, ARGO_RESOURCE, DEPLOYMENT


def test_crlf_and_bom_keep_spans() -> None:
    text = "\ufeff" + DEPLOYMENT.replace("\n", "\r\n")
    outcome = scan_text("app.yaml", text, scanners=[SCANNER])
    assert [o.text for o in outcome.occurrences] == [
        "busybox:1.36",
        "nginx:1.27",
        "ghcr.io/acme/side@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
        "docker.io/library/alpine:3.20",
    ]
    assert [o.line for o in outcome.occurrences] == [12, 15, 18, 21]


def test_the_driver_gives_templated_unpinned_and_pinned_statuses() -> None:
    outcome = scan_text("w.yaml", ARGO + "---\n" + DEPLOYMENT, scanners=[SCANNER])
    statuses = {o.text: o.status for o in outcome.occurrences}
    assert statuses["{{inputs.parameters.image}}"] is Status.TEMPLATED
    assert statuses["nginx:1.27"] is Status.UNPINNED
    assert (
        statuses[
            "ghcr.io/acme/side@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
        ]
        is Status.PINNED
    )


def test_folded_scalar_is_reported_but_not_rewritable() -> None:
    text = "apiVersion: v1\nkind: Pod\nspec:\n  containers:\n  - name: a\n    image: >-\n      quay.io/x/y:1\n"
    (finding,) = SCANNER.scan("pod.yaml", text)
    assert finding.reference_text == "quay.io/x/y:1"
    assert not finding.rewritable
    assert finding.start == text.index(">-")
    # The span is the scalar as written, so a person sees where the reference is.
    assert text[finding.start : finding.end] == ">-\n      quay.io/x/y:1"


@pytest.mark.parametrize(
    ("written", "shown"),
    [
        ('"quay.io/x/y\\u003a1"', '"quay.io/x/y\\u003a1"'),  # an escape
        ("|\n      quay.io/x/y:1\n\n", "|\n      quay.io/x/y:1"),  # trailing lines trimmed
        ('"quay.io/x/\\\n      y:1"', '"quay.io/x/\\\n      y:1"'),  # an escaped line break
    ],
)
def test_non_spliceable_scalar_spans_what_is_written(written: str, shown: str) -> None:
    text = f"apiVersion: v1\nkind: Pod\nspec:\n  containers:\n  - name: a\n    image: {written}\n  - name: b\n    image: busybox:1\n"
    outcome = scan_text("pod.yaml", text, scanners=[SCANNER])
    first, second = outcome.occurrences
    assert (first.text, first.rewritable, first.line) == (shown, False, 6)
    assert first.status is Status.UNPINNED and first.reference_text.startswith("quay.io/x")
    assert (second.text, second.rewritable) == ("busybox:1", True)


def test_folded_scalar_inside_an_embedded_manifest_spans_its_lines() -> None:
    text = ARGO_RESOURCE.replace(
        "image: python:alpine3.23", "image: >-\n                  python:alpine3.23"
    )
    (finding,) = SCANNER.scan("wf.yaml", text)
    assert text[finding.start : finding.end] == "image: >-\n                  python:alpine3.23"
    assert finding.reference_text == "python:alpine3.23"
    assert not finding.rewritable


HELM_TEMPLATE = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "app.fullname" . }}
spec:
  template:
    spec:
      containers:
        {{- if .Values.sidecar }}
        - name: side
          image: "busybox:1.36" # pinned later
        {{- end }}
        - name: app
          image: {{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
          imagePullPolicy: {{ .Values.image.pullPolicy }}
        - name: quoted
          image: "{{ .Values.registry }}/app:{{ .Values.tag }}"
        # image: commented-out:1
"""


def test_helm_template_is_read_line_by_line() -> None:
    findings = list(SCANNER.scan("chart/templates/deployment.yaml", HELM_TEMPLATE))
    assert [HELM_TEMPLATE[f.start : f.end] for f in findings] == [
        "busybox:1.36",
        "{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}",
        "{{ .Values.registry }}/app:{{ .Values.tag }}",
    ]
    outcome = scan_text("chart/templates/deployment.yaml", HELM_TEMPLATE, scanners=[SCANNER])
    assert not outcome.errors
    assert [o.status for o in outcome.occurrences] == [
        Status.UNPINNED,
        Status.TEMPLATED,
        Status.TEMPLATED,
    ]


def test_broken_manifest_raises_with_line() -> None:
    text = "apiVersion: v1\nkind: Pod\nspec:\n  containers:\n  - name: a\n   image: [broken\n"
    with pytest.raises(ScanError) as caught:
        list(SCANNER.scan("pod.yaml", text))
    assert caught.value.line is not None and caught.value.line >= 5


def test_broken_yaml_of_another_kind_is_left_to_its_scanner() -> None:
    assert list(SCANNER.scan("notes.yaml", "a: [b\nc: d: e\n")) == []


_IMAGES = st.from_regex(
    r"[a-z][a-z0-9]{0,8}(/[a-z0-9]{1,8}){0,2}:[a-z0-9][a-z0-9.]{0,8}", fullmatch=True
)


@pytest.mark.slow
@given(
    image=_IMAGES,
    quote=st.sampled_from(["", '"', "'"]),
    indent=st.integers(min_value=1, max_value=6),
    comment=st.booleans(),
    newline=st.sampled_from(["\n", "\r\n"]),
)
def test_span_holds_the_reference_whatever_the_layout(
    image: str, quote: str, indent: int, comment: bool, newline: str
) -> None:
    pad = " " * indent
    lines = [
        "apiVersion: v1",
        "kind: Pod",
        "spec:",
        f"{pad}containers:",
        f"{pad}- name: app",
        f"{pad}  image: {quote}{image}{quote}" + ("  # the app" if comment else ""),
    ]
    text = newline.join(lines) + newline
    (finding,) = SCANNER.scan("pod.yaml", text)
    assert text[finding.start : finding.end] == image
    assert finding.context == "spec.containers[0].image"
