"""Fixtures for the kubernetes scanner."""

from __future__ import annotations

from tests.scanners.tables import Case, FixtureTable

PATH = "deploy/app.yaml"

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

TABLE = FixtureTable(
    kind="kubernetes",
    path=PATH,
    claims=["k8s/deploy.yaml", "k8s/DEPLOY.YML"],
    ignores=["k8s/deploy.json", "Dockerfile"],
    cases=[Case(name, text, expected) for name, (text, expected) in CASES.items()],
    corpus=CORPUS,
)
