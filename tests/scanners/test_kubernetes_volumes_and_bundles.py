"""Kubernetes image volumes and Tekton bundles are images the cluster pulls; status is not.

Evidence:
- Image volumes: k8s.io/api core/v1 `VolumeSource.Image` (`ImageVolumeSource`), whose
  `reference` "behaves in the same way as pod.spec.containers[*].image" (KEP-4639; beta and on
  by default since Kubernetes 1.33). A pod's `volumes` are the same field in every pod
  template: Deployment, CronJob, Argo Workflow templates, Tekton Task `volumes`.
- Tekton bundles: tektoncd/pipeline docs/bundle-resolver.md (the `bundles` resolver takes a
  `bundle` parameter, "the bundle url pointing at the image to fetch", in a `taskRef`,
  `pipelineRef` or a step's `ref`), and the v1beta1 `TaskRef.Bundle`/`PipelineRef.Bundle`
  field. The resolver parses the value with go-containerregistry's `name.ParseReference`, so a
  tag, a digest, or `tag@digest` (the tag is then dropped) all work: pinning in place is safe.
"""

from __future__ import annotations

import pytest

from pinbot.scanners import scan_text
from pinbot.scanners.kubernetes import SCANNER
from tests.support.roundtrip import pin_file

DIGEST = "sha256:" + "c" * 64


def reported(path: str, text: str) -> list[tuple[str, str, str]]:
    outcome = scan_text(path, text)
    assert outcome.errors == []
    return [(o.text, o.context, o.status.value) for o in outcome.occurrences]


POD_VOLUME = """\
apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  containers:
  - name: app
    image: busybox:1.36
    volumeMounts: [{name: models, mountPath: /models}]
  volumes:
  - name: models
    image:
      reference: quay.io/acme/models:v2   # an OCI artifact mounted read-only
      pullPolicy: IfNotPresent
"""

DEPLOYMENT_VOLUME = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: d}
spec:
  template:
    spec:
      containers: [{name: app, image: "nginx:1.27"}]
      volumes:
      - name: data
        image: {pullPolicy: Always, reference: "ghcr.io/acme/data:1"}
"""

CRONJOB_VOLUME = """\
apiVersion: batch/v1
kind: CronJob
metadata: {name: c}
spec:
  jobTemplate:
    spec:
      template:
        spec:
          containers: [{name: job, image: alpine:3.20}]
          volumes:
          - name: tools
            image:
              pullPolicy: IfNotPresent
              reference: 'registry.k8s.io/e2e-test-images/agnhost:2.52'
"""

ARGO_VOLUME = """\
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {generateName: w-}
spec:
  entrypoint: main
  volumes:
  - name: data
    image: {reference: docker.io/acme/dataset:2024}
  templates:
  - name: main
    container: {image: python:3.12}
"""

LIST_VOLUME = """\
apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: Pod
  metadata: {name: p}
  spec:
    containers: [{name: a, image: alpine:3.20}]
    volumes: [{name: v, image: {reference: alpine:3.20}}]
status:
  volumes: [{name: v, image: {reference: not-pulled:1}}]
"""

HELM_TEMPLATE_VOLUME = """\
apiVersion: v1
kind: Pod
metadata:
  name: {{ .Release.Name }}
spec:
  containers:
    - name: app
      image: "{{ .Values.image }}"
  volumes:
    {{- if .Values.models.enabled }}
    - name: models
      image:
        pullPolicy: IfNotPresent
        reference: quay.io/acme/models:v3
    - name: other
      image:
        reference: "{{ .Values.models.reference }}"
    {{- end }}
"""

VOLUME_CASES = [
    (
        "pod",
        "pod.yaml",
        POD_VOLUME,
        [
            ("busybox:1.36", "spec.containers[0].image", "unpinned"),
            ("quay.io/acme/models:v2", "spec.volumes[0].image.reference", "unpinned"),
        ],
    ),
    (
        "deployment, flow mapping",
        "deploy.yaml",
        DEPLOYMENT_VOLUME,
        [
            ("nginx:1.27", "spec.template.spec.containers[0].image", "unpinned"),
            ("ghcr.io/acme/data:1", "spec.template.spec.volumes[0].image.reference", "unpinned"),
        ],
    ),
    (
        "cronjob",
        "cron.yaml",
        CRONJOB_VOLUME,
        [
            ("alpine:3.20", "spec.jobTemplate.spec.template.spec.containers[0].image", "unpinned"),
            (
                "registry.k8s.io/e2e-test-images/agnhost:2.52",
                "spec.jobTemplate.spec.template.spec.volumes[0].image.reference",
                "unpinned",
            ),
        ],
    ),
    (
        "argo workflow",
        "wf.yaml",
        ARGO_VOLUME,
        [
            ("docker.io/acme/dataset:2024", "spec.volumes[0].image.reference", "unpinned"),
            ("python:3.12", "spec.templates[0].container.image", "unpinned"),
        ],
    ),
    (
        "kind: List, and status is not read",
        "list.yaml",
        LIST_VOLUME,
        [
            ("alpine:3.20", "items[0].spec.containers[0].image", "unpinned"),
            ("alpine:3.20", "items[0].spec.volumes[0].image.reference", "unpinned"),
        ],
    ),
    (
        "helm template read line by line",
        "chart/templates/pod.yaml",
        HELM_TEMPLATE_VOLUME,
        [
            ("{{ .Values.image }}", "image (template, read line by line)", "templated"),
            (
                "quay.io/acme/models:v3",
                "image.reference (template, read line by line)",
                "unpinned",
            ),
            (
                "{{ .Values.models.reference }}",
                "image.reference (template, read line by line)",
                "templated",
            ),
        ],
    ),
]


@pytest.mark.parametrize(
    ("path", "text", "expected"),
    [pytest.param(path, text, expected, id=case) for case, path, text, expected in VOLUME_CASES],
)
def test_image_volumes_are_read_in_every_pod_template(
    path: str, text: str, expected: list[tuple[str, str, str]]
) -> None:
    assert reported(path, text) == expected


def test_an_image_volume_is_pinned_in_place() -> None:
    digests = {
        "docker.io/library/busybox:1.36": DIGEST,
        "quay.io/acme/models:v2": DIGEST,
    }
    updated, _ = pin_file("pod.yaml", POD_VOLUME.encode(), digests)
    assert updated.decode() == POD_VOLUME.replace(
        "reference: quay.io/acme/models:v2", f"reference: quay.io/acme/models:v2@{DIGEST}"
    ).replace("image: busybox:1.36", f"image: busybox:1.36@{DIGEST}")
    assert pin_file("pod.yaml", updated, digests)[0] == updated


def test_a_status_image_is_dismissed_with_its_reason() -> None:
    dismissals = list(SCANNER.dismissals("list.yaml", LIST_VOLUME))
    assert [(LIST_VOLUME[d.start : d.end], d.context) for d in dismissals] == [
        ("not-pulled:1", "status.volumes[0].image.reference")
    ]
    assert dismissals[0].reason.startswith("a status field")


TEKTON_OLD_BUNDLE = """\
apiVersion: tekton.dev/v1beta1
kind: Pipeline
metadata: {name: build}
spec:
  tasks:
  - name: clone
    taskRef:
      name: git-clone
      bundle: gcr.io/tekton-releases/catalog/upstream/git-clone:0.9
  finally:
  - name: notify
    taskRef: {name: send, bundle: "ghcr.io/acme/tasks:1.0"}
"""

TEKTON_RESOLVER = f"""\
apiVersion: tekton.dev/v1
kind: PipelineRun
metadata: {{generateName: run-}}
spec:
  pipelineRef:
    resolver: bundles
    params:
    - name: bundle
      value: docker.io/acme/pipelines:2.1
    - name: name
      value: build
    - name: kind
      value: pipeline
---
apiVersion: tekton.dev/v1
kind: TaskRun
metadata: {{name: t}}
spec:
  taskRef:
    resolver: bundles
    params:
    - {{name: name, value: echo}}
    - {{name: bundle, value: "quay.io/acme/tasks@{DIGEST}"}}
---
apiVersion: tekton.dev/v1
kind: Task
metadata: {{name: uses-step-action}}
spec:
  steps:
  - name: lint
    ref:
      resolver: bundles
      params:
      - name: bundle
        value: ghcr.io/acme/step-actions:0.3
      - name: name
        value: lint
---
apiVersion: tekton.dev/v1
kind: TaskRun
metadata: {{name: git}}
spec:
  taskRef:
    resolver: git
    params:
    - {{name: bundle, value: not-a-bundle-resolver}}
"""

TEKTON_CASES = [
    (
        "taskRef.bundle in tasks and finally",
        TEKTON_OLD_BUNDLE,
        [
            (
                "gcr.io/tekton-releases/catalog/upstream/git-clone:0.9",
                "spec.tasks[0].taskRef.bundle",
                "unpinned",
            ),
            ("ghcr.io/acme/tasks:1.0", "spec.finally[0].taskRef.bundle", "unpinned"),
        ],
    ),
    (
        "resolver: bundles in pipelineRef, taskRef and a step's ref; other resolvers are not",
        TEKTON_RESOLVER,
        [
            ("docker.io/acme/pipelines:2.1", "spec.pipelineRef.params[0].value", "unpinned"),
            (f"quay.io/acme/tasks@{DIGEST}", "spec.taskRef.params[1].value", "pinned"),
            ("ghcr.io/acme/step-actions:0.3", "spec.steps[0].ref.params[0].value", "unpinned"),
        ],
    ),
]


@pytest.mark.parametrize(
    ("text", "expected"),
    [pytest.param(text, expected, id=case) for case, text, expected in TEKTON_CASES],
)
def test_tekton_bundles_are_images(text: str, expected: list[tuple[str, str, str]]) -> None:
    assert reported("tekton.yaml", text) == expected


def test_tekton_bundles_are_pinned_in_place() -> None:
    digests = {
        "docker.io/acme/pipelines:2.1": DIGEST,
        "ghcr.io/acme/step-actions:0.3": DIGEST,
    }
    updated, result = pin_file("tekton.yaml", TEKTON_RESOLVER.encode(), digests)
    assert len(result.edits) == 2
    assert updated.decode() == TEKTON_RESOLVER.replace(
        "value: docker.io/acme/pipelines:2.1", f"value: docker.io/acme/pipelines:2.1@{DIGEST}"
    ).replace(
        "value: ghcr.io/acme/step-actions:0.3", f"value: ghcr.io/acme/step-actions:0.3@{DIGEST}"
    )
    assert pin_file("tekton.yaml", updated, digests)[0] == updated
