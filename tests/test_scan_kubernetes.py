"""The Kubernetes scanner: image fields of manifests at any depth, and the traps beside them."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pinbot.scanners import ScanError, Status, scan_text
from pinbot.scanners.kubernetes import SCANNER
from tests.support.corpus import scan_corpus_file

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  annotations:
    image: not-an-image:1   # annotations are not fields that pull anything
spec:
  template:
    spec:
      initContainers:
      - name: init
        image: busybox:1.36
      containers:
      - name: web
        image: "nginx:1.27"  # the web server
        imagePullPolicy: IfNotPresent
      - name: side
        image: 'ghcr.io/acme/side@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef'
      ephemeralContainers:
      - name: debug
        image: docker.io/library/alpine:3.20
      imagePullSecrets:
      - name: regcred
status:
  containerStatuses:
  - image: nginx:1.27
    imageID: docker-pullable://nginx@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
    containerID: containerd://abc
"""

CRONJOB_AND_LIST = """\
apiVersion: batch/v1
kind: CronJob
metadata: {name: nightly}
spec:
  jobTemplate:
    spec:
      template:
        spec:
          containers:
          - {name: job, image: "registry.k8s.io/kubectl:v1.31.0"}
---
# an empty document follows
---
apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: Pod
  metadata:
    name: one
  spec:
    containers:
    - name: c
      image: redis:7
  status:
    containerStatuses:
    - image: redis:7
"""

ARGO = """\
apiVersion: argoproj.io/v1alpha1
kind: Workflow
spec:
  templates:
  - name: main
    steps:
    - - name: each
        template: echo
        withItems:
        - {image: debian, tag: "9.1"}
  - name: echo
    container:
      image: argoproj/argosay:v2
  - name: py
    script:
      image: python:3.12
      source: print(1)
    sidecars:
    - name: db
      image: postgres:16
  - name: set
    containerSet:
      containers:
      - name: a
        image: alpine:3.20
  - name: param
    container:
      image: "{{inputs.parameters.image}}"
"""

TEKTON = """\
apiVersion: tekton.dev/v1
kind: Task
metadata:
  name: build
spec:
  params:
  - name: BUILDER_IMAGE
    default: gcr.io/kaniko-project/executor:v1.23.0
  - name: OTHER
    default: not-used:1
  stepTemplate:
    image: ubuntu:24.04
  steps:
  - name: build
    image: $(params.BUILDER_IMAGE)
  - image: bash:5
    script: |
      echo image: fake:1
  sidecars:
  - image: docker:dind
"""

PROMETHEUS = """\
apiVersion: monitoring.coreos.com/v1
kind: Prometheus
spec:
  image: quay.io/prometheus/prometheus:v3.0.0
  version: 3.0.0
"""

CONFIGMAP = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
data:
  image: nginx:1.27
  values.yaml: |
    image: redis:7
"""

NOT_MANIFESTS = """\
# no apiVersion/kind: some other program's configuration
image: nginx:1.27
containers:
- image: redis:7
---
apiVersion: skaffold/v4beta6
kind: Config
build:
  artifacts:
  - image: frontend
---
apiVersion: v1
kind: Pod
spec:
  volumes:
  - name: ceph
    rbd:
      image: foo
      pool: kube
  containers: null
---
apiVersion: v1
kind: Pod
spec:
  containers:
  - name: odd
    image: [not, a, scalar]
  - name: empty
    image: ""
  - name: nothing
    image:
  - just-a-string
  - 42
"""

ARGO_RESOURCE = """\
apiVersion: argoproj.io/v1alpha1
kind: Workflow
spec:
  templates:
  - name: job
    resource:
      action: create
      manifest: |
        apiVersion: batch/v1
        kind: Job
        spec:
          template:
            spec:
              containers:
              - name: rand
                image: python:alpine3.23
"""

CASES: dict[str, tuple[str, list[tuple[str, str]]]] = {
    "deployment": (
        DEPLOYMENT,
        [
            ("busybox:1.36", "spec.template.spec.initContainers[0].image"),
            ("nginx:1.27", "spec.template.spec.containers[0].image"),
            (
                "ghcr.io/acme/side@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
                "spec.template.spec.containers[1].image",
            ),
            ("docker.io/library/alpine:3.20", "spec.template.spec.ephemeralContainers[0].image"),
        ],
    ),
    "cronjob and list": (
        CRONJOB_AND_LIST,
        [
            (
                "registry.k8s.io/kubectl:v1.31.0",
                "spec.jobTemplate.spec.template.spec.containers[0].image",
            ),
            ("redis:7", "items[0].spec.containers[0].image"),
        ],
    ),
    "argo workflow": (
        ARGO,
        [
            ("argoproj/argosay:v2", "spec.templates[1].container.image"),
            ("python:3.12", "spec.templates[2].script.image"),
            ("postgres:16", "spec.templates[2].sidecars[0].image"),
            ("alpine:3.20", "spec.templates[3].containerSet.containers[0].image"),
            ("{{inputs.parameters.image}}", "spec.templates[4].container.image"),
        ],
    ),
    "tekton task": (
        TEKTON,
        [
            (
                "gcr.io/kaniko-project/executor:v1.23.0",
                "spec.params[0].default (image of spec.steps[0].image)",
            ),
            ("ubuntu:24.04", "spec.stepTemplate.image"),
            ("$(params.BUILDER_IMAGE)", "spec.steps[0].image"),
            ("bash:5", "spec.steps[1].image"),
            ("docker:dind", "spec.sidecars[0].image"),
        ],
    ),
    "custom resource spec.image": (
        PROMETHEUS,
        [("quay.io/prometheus/prometheus:v3.0.0", "spec.image")],
    ),
    "configmap data is configuration": (CONFIGMAP, []),
    "traps": (NOT_MANIFESTS, []),
    "argo resource manifest": (
        ARGO_RESOURCE,
        [
            (
                "python:alpine3.23",
                "spec.templates[0].resource.manifest: spec.template.spec.containers[0].image",
            )
        ],
    ),
}


@pytest.mark.parametrize("name", CASES)
def test_findings(name: str) -> None:
    text, expected = CASES[name]
    findings = sorted(SCANNER.scan("deploy/app.yaml", text), key=lambda f: f.start)
    assert [(text[f.start : f.end], f.context) for f in findings] == expected
    assert all(f.rewritable for f in findings)


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


def test_statuses_through_the_driver() -> None:
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


def test_matches_yaml_only() -> None:
    assert SCANNER.matches("k8s/deploy.yaml")
    assert SCANNER.matches("k8s/DEPLOY.YML")
    assert not SCANNER.matches("k8s/deploy.json")
    assert not SCANNER.matches("Dockerfile")


_IMAGES = st.from_regex(
    r"[a-z][a-z0-9]{0,8}(/[a-z0-9]{1,8}){0,2}:[a-z0-9][a-z0-9.]{0,8}", fullmatch=True
)


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


# Counted by reading each file: one entry per `image:` field the cluster would pull.
CORPUS = {
    # the container's image; the `image:` beside `imageID:` is status.containerStatuses.
    "argoproj__argo-cd/gitops-engine/pkg/health/testdata/pod-crashloop.yaml": 1,
    # `rbd.image: foo` is a Ceph image, `imageformat`/`imagefeatures` too; only the pause container.
    "kubernetes__examples/_archived/volumes/rbd/rbd.yaml": 1,
    # `golang:1.8` and the templated `{{inputs.parameters.os-image}}`; withItems are loop data.
    "argoproj__argo-workflows/examples/ci.yaml": 2,
    # the Job inside `resource.manifest` (a literal block).
    "argoproj__argo-workflows/examples/k8s-jobs.yaml": 1,
    # Prometheus CR `spec.image`.
    "prometheus-operator__kube-prometheus/manifests/prometheus-prometheus.yaml": 1,
    # two templated steps and the two parameter defaults they name.
    "tektoncd__catalog/task/kaniko/0.7/kaniko.yaml": 4,
    # a ConfigMap (regsync config, no image fields) and a Deployment with one container.
    "regclient__regclient/docs/examples/k8s-regsync.yaml": 1,
    # Helm template, not YAML, read line by line: the pinned busybox and the templated app image.
    "GoogleCloudPlatform__microservices-demo/helm-chart/templates/loadgenerator.yaml": 2,
    # one container image written as a folded scalar (`>-`): reported, not rewritable.
    "argoproj__argo-cd/resource_customizations/apps.openshift.io/DeploymentConfig/testdata/degraded.yaml": 1,
}


@pytest.mark.corpus
@pytest.mark.parametrize("relative", CORPUS)
def test_corpus_counts(relative: str) -> None:
    occurrences = [o for o in scan_corpus_file(relative) if o.kind == "kubernetes"]
    assert len(occurrences) == CORPUS[relative]
    for occurrence in occurrences:
        if occurrence.rewritable:
            assert occurrence.text == occurrence.reference_text
