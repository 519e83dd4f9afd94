"""Pin structured references end to end, pure: scan text, plan with verified lookups, apply.

Helm image maps, Kustomize `images` entries, Dockerfile FROMs built from ARG defaults, and
values that cannot be spliced sitting in a file that is edited.
"""

from __future__ import annotations

import pytest

from pinbot.apply import apply_edits
from pinbot.config import PinConfig
from pinbot.plan import DEFAULT_PIN, Action, Lookup, NoticeKind, Plan, plan
from pinbot.scanners import scan_text
from pinbot.scanners.helm import NO_DIGEST_FIELD

NEW = "sha256:" + "a" * 64
OLD = "sha256:" + "b" * 64


def pin(
    path: str, text: str, lookups: dict[str, str], config: PinConfig = DEFAULT_PIN
) -> tuple[str, Plan]:
    """`text` after planning with `lookups` (name:tag -> verified digest) and applying."""
    occurrences = scan_text(path, text).occurrences
    verified = {key: Lookup(digest, verified=True) for key, digest in lookups.items()}
    result = plan(occurrences, verified, config)
    change = apply_edits(path, text.encode("utf-8"), result.edits)
    return change.updated.decode("utf-8"), result


def test_a_folded_image_beside_an_edited_one_is_left_as_written() -> None:
    text = (
        "apiVersion: v1\nkind: Pod\nspec:\n  containers:\n"
        "  - name: a\n    image: >-\n      quay.io/x/y:1\n\n"
        "  - name: b\n    image: busybox:1.36\n"
    )
    folded, plain = scan_text("pod.yaml", text).occurrences
    assert plain.rewritable
    assert folded.text == ">-\n      quay.io/x/y:1" and not folded.rewritable
    updated, result = pin(
        "pod.yaml", text, {"quay.io/x/y:1": NEW, "docker.io/library/busybox:1.36": NEW}
    )
    assert updated == text.replace("busybox:1.36", f"busybox:1.36@{NEW}")
    assert [n.occurrence.text for n in result.notices] == [folded.text]


# -- Helm image maps ---------------------------------------------------------------------

BITNAMI = """\
image:
  registry: docker.io
  repository: bitnami/minio
  tag: 2025.7.23-debian-12-r3
  digest: ""
  pullPolicy: IfNotPresent
"""
MINIO = "docker.io/bitnami/minio:2025.7.23-debian-12-r3"


def test_helm_map_with_an_empty_digest_is_pinned_inside_the_quotes() -> None:
    updated, result = pin("values.yaml", BITNAMI, {MINIO: NEW})
    assert updated == BITNAMI.replace('digest: ""', f'digest: "{NEW}"')
    (edit,) = result.edits
    assert edit.expected == f"{MINIO}@{NEW}"
    again, result = pin("values.yaml", updated, {MINIO: NEW})
    assert again == updated and result.edits == [] and result.unchanged == 1


EXPORTER = """\
metrics:
  enabled: false
  image:
    registry: quay.io
    repository: prometheus/mysqld-exporter
    tag: v0.15.1  # the chart's default
    pullPolicy: IfNotPresent
"""
MYSQLD = "quay.io/prometheus/mysqld-exporter:v0.15.1"


def test_helm_map_without_digest_is_not_pinned_by_default() -> None:
    updated, result = pin("values.yaml", EXPORTER, {MYSQLD: NEW})
    assert updated == EXPORTER and result.edits == []
    (notice,) = result.notices
    assert notice.kind is NoticeKind.NOT_REWRITABLE
    assert notice.message == NO_DIGEST_FIELD


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_helm_map_without_digest_gets_a_digest_line_when_asked(newline: str) -> None:
    text = EXPORTER.replace("\n", newline)
    config = PinConfig(helm_insert_digest=True)
    updated, result = pin("values.yaml", text, {MYSQLD: NEW}, config)
    expected = EXPORTER.replace(
        "  # the chart's default\n", f"  # the chart's default\n    digest: {NEW}\n"
    )
    assert updated == expected.replace("\n", newline)
    (edit,) = result.edits
    assert (edit.action, edit.expected) == (Action.PIN, f"{MYSQLD}@{NEW}")
    # The key is there now: a second pass finds the digest current, even without the option.
    for second_config in (config, DEFAULT_PIN):
        again, result = pin("values.yaml", updated, {MYSQLD: NEW}, second_config)
        assert again == updated and result.edits == [] and result.unchanged == 1


# -- Kustomize images entries ------------------------------------------------------------

KUSTOMIZATION = """\
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
images:
  - name: quay.io/argoproj/argocd
    newName: ghcr.io/acme/argocd
    newTag: v2.13.0
  - name: redis
    newTag: "7.4"
resources: [deploy.yaml]
"""
ARGOCD = "ghcr.io/acme/argocd:v2.13.0"
REDIS = "docker.io/library/redis:7.4"


def test_kustomize_first_pin_adds_digest_and_a_second_pass_is_a_no_op() -> None:
    updated, result = pin("kustomization.yaml", KUSTOMIZATION, {ARGOCD: NEW, REDIS: OLD})
    assert updated == KUSTOMIZATION.replace(
        "newTag: v2.13.0\n", f"newTag: v2.13.0\n    digest: {NEW}\n"
    ).replace('newTag: "7.4"\n', f'newTag: "7.4"\n    digest: {OLD}\n')
    assert [e.action for e in result.edits] == [Action.PIN, Action.PIN]
    again, result = pin("kustomization.yaml", updated, {ARGOCD: NEW, REDIS: OLD})
    assert again == updated and result.edits == [] and result.unchanged == 2


def test_kustomize_bump_rewrites_only_the_digest() -> None:
    pinned, _ = pin("kustomization.yaml", KUSTOMIZATION, {ARGOCD: OLD, REDIS: OLD})
    bumped, result = pin("kustomization.yaml", pinned, {ARGOCD: NEW, REDIS: OLD})
    assert bumped == pinned.replace(f"v2.13.0\n    digest: {OLD}", f"v2.13.0\n    digest: {NEW}")
    (edit,) = result.edits
    assert (edit.action, edit.old_digest, edit.new_digest) == (Action.BUMP, OLD, NEW)
    assert edit.expected == f"{ARGOCD}@{NEW}"


# -- Dockerfile FROMs built from ARG defaults --------------------------------------------

REGBOT = """\
ARG REGISTRY=docker.io
ARG ALPINE_VER=3.24.1
ARG GO_VER=1.26.4-alpine
FROM ${REGISTRY}/library/golang:${GO_VER} AS golang
RUN go build ./...
FROM ${REGISTRY}/library/alpine:${ALPINE_VER} AS base
RUN apk add ca-certificates
FROM ${REGISTRY}/library/alpine:${ALPINE_VER} AS release
COPY --from=golang /out /usr/local/bin/
"""
ALPINE = "docker.io/library/alpine:3.24.1"
GOLANG = "docker.io/library/golang:1.26.4-alpine"


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_from_through_arg_default_pins_then_bumps_at_the_arg(newline: str) -> None:
    text = REGBOT.replace("\n", newline)
    pinned, result = pin("Dockerfile", text, {ALPINE: OLD, GOLANG: NEW})
    # Two FROMs share ALPINE_VER: its default is written once, and both now give the pin.
    assert pinned == text.replace("ALPINE_VER=3.24.1", f"ALPINE_VER=3.24.1@{OLD}").replace(
        "GO_VER=1.26.4-alpine", f"GO_VER=1.26.4-alpine@{NEW}"
    )
    assert sorted((e.occurrence.line, e.action, e.expected) for e in result.edits) == [
        (4, Action.PIN, f"{GOLANG}@{NEW}"),
        (6, Action.PIN, f"{ALPINE}@{OLD}"),
        (8, Action.PIN, f"{ALPINE}@{OLD}"),
    ]
    # The FROM lines themselves are untouched.
    assert [line for line in pinned.splitlines() if line.startswith("FROM")] == [
        line for line in text.splitlines() if line.startswith("FROM")
    ]

    again, result = pin("Dockerfile", pinned, {ALPINE: OLD, GOLANG: NEW})
    assert again == pinned and result.edits == [] and result.unchanged == 3

    bumped, result = pin("Dockerfile", pinned, {ALPINE: NEW, GOLANG: NEW})
    assert bumped == pinned.replace(f"ALPINE_VER=3.24.1@{OLD}", f"ALPINE_VER=3.24.1@{NEW}")
    assert {(e.action, e.old_digest, e.new_digest) for e in result.edits} == {
        (Action.BUMP, OLD, NEW)
    }
    assert len(result.edits) == 2  # one per FROM, written once


def test_from_through_an_arg_read_elsewhere_is_left_alone() -> None:
    text = REGBOT + "LABEL alpine=${ALPINE_VER}\n"
    updated, result = pin("Dockerfile", text, {ALPINE: OLD, GOLANG: NEW})
    assert updated == text.replace("GO_VER=1.26.4-alpine", f"GO_VER=1.26.4-alpine@{NEW}")
    assert [e.occurrence.line for e in result.edits] == [4]


HOUND = """\
image:
  registry: ghcr.io
  name: acme/hound
  tag: v0.5.1
  pullPolicy: IfNotPresent
"""
HOUND_REF = "ghcr.io/acme/hound:v0.5.1"


def test_helm_map_with_name_pins_like_repository() -> None:
    updated, result = pin("values.yaml", HOUND, {HOUND_REF: NEW})
    assert updated == HOUND and [n.message for n in result.notices] == [NO_DIGEST_FIELD]
    config = PinConfig(helm_insert_digest=True)
    updated, result = pin("values.yaml", HOUND, {HOUND_REF: NEW}, config)
    assert updated == HOUND.replace("tag: v0.5.1\n", f"tag: v0.5.1\n  digest: {NEW}\n")
    (edit,) = result.edits
    assert edit.expected == f"{HOUND_REF}@{NEW}"
    bumped, result = pin("values.yaml", updated, {HOUND_REF: OLD})
    assert bumped == updated.replace(NEW, OLD)
    assert [(e.action, e.old_digest) for e in result.edits] == [(Action.BUMP, NEW)]
