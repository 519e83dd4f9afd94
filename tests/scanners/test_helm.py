"""The Helm/generic YAML scanner: image strings, image maps, Chart.yaml image annotations."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pinbot.scanners import ScanError, scan_text
from pinbot.scanners._registry import scanner_of_kind
from pinbot.scanners.helm import FROM_APP_VERSION, NO_DIGEST_FIELD, is_image_key
from pinbot.scanners.interface import Finding
from tests.scanners.tables.helm import CORPUS
from tests.support.corpus import scan_corpus_file

SCANNER = scanner_of_kind("helm")

DIGEST = "sha256:" + "ab" * 32

VALUES = f"""\
image:
  registry: docker.io
  repository: bitnami/minio
  tag: 2025.7.23-debian-12-r3
  digest: ""
  pullPolicy: IfNotPresent
clientImage:
  registry: docker.io
  repository: bitnami/minio-client
  tag: "2025.7.21"
  digest: {DIGEST}
metrics:
  image:
    repository: prom/exporter
    tag: v1.0
    pullPolicy: IfNotPresent
app:
  image:
    repository: ghcr.io/acme/app
    tag: ""
    digest:
sidecar:
  image: "busybox:1.36"   # plain string
images:
  repository: us-docker.pkg.dev/acme/shop
  tag: ""
settings:
  image: true
  pullImage: 3
  defaultImage: "not an image"
  imagePullPolicy: Always
  imageTagOnly:
    tag: "1.2"
"""


def _findings(path: str, text: str) -> list[Finding]:
    return sorted(SCANNER.scan(path, text), key=lambda f: f.start)


def _apply(text: str, finding: Finding, digest: str = DIGEST) -> str:
    slot = finding.digest_slot
    assert slot is not None
    return text[: slot.start] + slot.prefix + digest + slot.suffix + text[slot.end :]


def test_image_maps_compose_registry_repository_tag_and_digest() -> None:
    got = [
        (VALUES[f.start : f.end], f.context, f.reference_text, f.structured, f.rewritable, f.note)
        for f in _findings("values.yaml", VALUES)
    ]
    assert got == [
        (
            "bitnami/minio",
            "image.repository",
            "docker.io/bitnami/minio:2025.7.23-debian-12-r3",
            True,
            True,
            None,
        ),
        (
            "bitnami/minio-client",
            "clientImage.repository",
            f"docker.io/bitnami/minio-client:2025.7.21@{DIGEST}",
            True,
            True,
            None,
        ),
        (
            "prom/exporter",
            "metrics.image.repository",
            "prom/exporter:v1.0",
            True,
            False,
            NO_DIGEST_FIELD,
        ),
        (
            "ghcr.io/acme/app",
            "app.image.repository",
            "ghcr.io/acme/app",
            True,
            False,
            FROM_APP_VERSION,
        ),
        ("busybox:1.36", "sidecar.image", None, False, True, None),
    ]


def test_digest_is_written_into_the_digest_key_or_a_line_after_the_tag() -> None:
    findings = _findings("values.yaml", VALUES)
    new = "sha256:" + "cd" * 32
    assert f'  digest: "{new}"\n  pullPolicy' in _apply(VALUES, findings[0], new)
    slot = findings[1].digest_slot
    assert slot is not None and VALUES[slot.start : slot.end] == DIGEST
    assert f"  digest: {new}\nmetrics:" in _apply(VALUES, findings[1], new)
    # no digest key: an insertion after the tag line is offered, not used by default
    assert "    tag: v1.0\n    digest: " + new + "\n    pullPolicy" in _apply(
        VALUES, findings[2], new
    )
    # `digest:` with no value: written after the colon
    assert f"    digest: {new}\nsidecar:" in _apply(VALUES, findings[3], new)


def test_a_map_without_digest_offers_to_add_the_key() -> None:
    by_context = {f.context: f for f in _findings("values.yaml", VALUES)}
    assert by_context["metrics.image.repository"].adds_digest_key
    # A digest key already there, or no tag to resolve: nothing is added.
    assert not any(
        by_context[c].adds_digest_key
        for c in ("image.repository", "clientImage.repository", "app.image.repository")
    )


@pytest.mark.parametrize(
    "text",
    [
        # a flow mapping: a new line would fall outside it
        "image: {repository: nginx, tag: '1.27'}\n",
        # the tag comes from an anchor: a line added there would change every map using it
        "base: &b\n  tag: '1.27'\nimage:\n  <<: *b\n  repository: nginx\n",
    ],
)
def test_no_digest_line_where_it_cannot_go(text: str) -> None:
    (finding,) = _findings("values.yaml", text)
    assert finding.reference_text == "nginx:1.27"
    assert finding.digest_slot is None and not finding.adds_digest_key
    assert (finding.rewritable, finding.note) == (False, NO_DIGEST_FIELD)


def test_digest_line_at_the_end_of_a_crlf_file() -> None:
    text = "image:\r\n  repository: nginx\r\n  tag: '1.27'"
    (finding,) = _findings("values.yaml", text)
    assert _apply(text, finding) == text + f"\r\n  digest: {DIGEST}"


def test_kubernetes_objects_are_left_to_their_scanner() -> None:
    text = (
        "apiVersion: v1\nkind: Pod\nspec:\n  containers:\n  - name: a\n    image: nginx:1\n---\n"
        "apiVersion: skaffold/v4beta6\nkind: Config\nbuild:\n  artifacts:\n  - image: frontend\n---\n"
        "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nspec:\n  values:\n"
        "    image:\n      repository: nginx\n      tag: '1.27'\n"
    )
    assert [(text[f.start : f.end], f.reference_text) for f in _findings("release.yaml", text)] == [
        ("nginx", "nginx:1.27")
    ]


CHART = """\
apiVersion: v2
name: minio
annotations:
  images: |
    - name: minio
      image: docker.io/bitnami/minio:2025.7.23-debian-12-r3
    - name: os-shell
      image: "docker.io/bitnami/os-shell:12-debian-12-r50"  # quoted
  artifacthub.io/images: |-
      - name: app
        image: ghcr.io/acme/app:1.0
  licenses: Apache-2.0
appVersion: 2025.7.23
"""


def test_chart_annotations_have_exact_spans() -> None:
    got = [
        (CHART[f.start : f.end], f.context, f.rewritable)
        for f in _findings("chart/Chart.yaml", CHART)
    ]
    assert got == [
        ("docker.io/bitnami/minio:2025.7.23-debian-12-r3", "annotations.images: [0].image", True),
        ("docker.io/bitnami/os-shell:12-debian-12-r50", "annotations.images: [1].image", True),
        ("ghcr.io/acme/app:1.0", "annotations.artifacthub.io/images: [0].image", True),
    ]


def test_chart_annotation_spans_hold_with_crlf_line_endings() -> None:
    text = CHART.replace("\n", "\r\n")
    got = [text[f.start : f.end] for f in _findings("Chart.yaml", text)]
    assert got == [
        "docker.io/bitnami/minio:2025.7.23-debian-12-r3",
        "docker.io/bitnami/os-shell:12-debian-12-r50",
        "ghcr.io/acme/app:1.0",
    ]


def test_folded_chart_annotation_is_reported_not_rewritable() -> None:
    text = "apiVersion: v2\nannotations:\n  images: >\n    - name: a\n      image: nginx:1.27\n"
    (finding,) = _findings("Chart.yaml", text)
    assert finding.reference_text == "nginx:1.27" and not finding.rewritable
    assert text[finding.start : finding.end] == "nginx:1.27"  # found where it is written


def test_quoted_chart_annotation_images_are_each_shown_where_written() -> None:
    text = (
        'apiVersion: v2\nannotations:\n  images: "- name: a\\n  image: nginx:1.27\\n'
        '- name: b\\n  image: redis:7\\n"\n'
    )
    got = [(text[f.start : f.end], f.reference_text, f.rewritable) for f in _findings("Chart.yaml", text)]
    assert got == [("nginx:1.27", "nginx:1.27", False), ("redis:7", "redis:7", False)]


def test_image_map_with_a_folded_repository_spans_it() -> None:
    text = "image:\n  repository: >-\n    bitnami/nginx\n  tag: 1.27.0\n"
    (finding,) = _findings("values.yaml", text)
    assert text[finding.start : finding.end] == ">-\n    bitnami/nginx"
    assert finding.reference_text == "bitnami/nginx:1.27.0" and not finding.rewritable


def test_broken_yaml_is_an_error_only_in_values_and_chart_files() -> None:
    broken = "image:\n  repository: [x\n"
    with pytest.raises(ScanError):
        list(SCANNER.scan("charts/app/values.yaml", broken))
    with pytest.raises(ScanError):
        list(SCANNER.scan("Chart.yaml", broken))
    assert list(SCANNER.scan("ci/pipeline.yml", broken)) == []
    assert list(SCANNER.scan("chart/templates/values-x.yaml", broken)) == []


def test_image_and_camel_case_image_keys_are_image_keys() -> None:
    assert all(
        is_image_key(k) for k in ("image", "clientImage", "initContainerImage", "node_image")
    )
    assert not any(
        is_image_key(k) for k in ("images", "imagePullPolicy", "Image", "_image", "IMAGE", 0)
    )


def test_the_driver_gives_image_map_statuses_and_the_full_reference() -> None:
    outcome = scan_text("values.yaml", VALUES, scanners=[SCANNER])
    by_text = {o.text: o for o in outcome.occurrences}
    assert by_text["bitnami/minio-client"].status.value == "pinned"
    assert by_text["bitnami/minio"].status.value == "unpinned"
    assert (
        by_text["bitnami/minio"].reference_text == "docker.io/bitnami/minio:2025.7.23-debian-12-r3"
    )


@given(
    indent=st.integers(min_value=1, max_value=4),
    quote=st.sampled_from(["", '"', "'"]),
    newline=st.sampled_from(["\n", "\r\n"]),
    comment=st.booleans(),
    repository=st.from_regex(r"[a-z][a-z0-9]{0,6}(/[a-z0-9]{1,6}){0,2}", fullmatch=True),
)
def test_an_image_map_spans_its_repository_and_fills_its_digest_whatever_the_layout(
    indent: int, quote: str, newline: str, comment: bool, repository: str
) -> None:
    pad = " " * indent
    tail = "  # repo" if comment else ""
    text = newline.join(
        [
            "image:",
            f"{pad}repository: {quote}{repository}{quote}{tail}",
            f"{pad}tag: '1.0'",
            f"{pad}digest: ''",
            "x: 1",
        ]
    )
    (finding,) = _findings("values.yaml", text)
    assert text[finding.start : finding.end] == repository
    assert finding.reference_text == f"{repository}:1.0"
    pinned = _apply(text, finding)
    assert f"{pad}digest: '{DIGEST}'{newline}x: 1" in pinned
    (again,) = _findings("values.yaml", pinned)
    assert again.reference_text == f"{repository}:1.0@{DIGEST}"


@pytest.mark.parametrize(
    ("text", "written", "context", "reference", "rewritable", "adds_key"),
    [
        # `name` for `repository` (charts that build `registry/name:tag`): no digest key yet
        (
            "image:\n  registry: ghcr.io\n  name: acme/hound\n  tag: v0.5.1\n",
            "acme/hound",
            "image.name",
            "ghcr.io/acme/hound:v0.5.1",
            False,
            True,
        ),
        # with a digest key: written there
        (
            f"worker:\n  image:\n    name: nginx\n    tag: '1.27'\n    digest: {DIGEST}\n",
            "nginx",
            "worker.image.name",
            f"nginx:1.27@{DIGEST}",
            True,
            False,
        ),
        # repository wins over a name beside it
        (
            "image:\n  name: web\n  repository: nginx\n  tag: '1.27'\n  digest: ''\n",
            "nginx",
            "image.repository",
            "nginx:1.27",
            True,
            False,
        ),
    ],
)
def test_an_image_map_reads_name_as_the_repository_unless_one_is_given(
    text: str, written: str, context: str, reference: str, rewritable: bool, adds_key: bool
) -> None:
    (finding,) = _findings("values.yaml", text)
    assert (text[finding.start : finding.end], finding.context, finding.reference_text) == (
        written,
        context,
        reference,
    )
    assert (finding.rewritable, finding.adds_digest_key) == (rewritable, adds_key)


@pytest.mark.corpus
@pytest.mark.parametrize("relative", sorted(CORPUS))
def test_real_files_name_the_repository_inside_the_reference(relative: str) -> None:
    for occurrence in scan_corpus_file(relative):
        if occurrence.kind == "helm":
            assert occurrence.text and occurrence.text in occurrence.reference_text
