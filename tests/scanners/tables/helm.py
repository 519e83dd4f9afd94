"""Fixtures for the Helm-values scanner (any YAML no other kind claims by name)."""

from __future__ import annotations

from tests.scanners.tables import Broken, Case, FixtureTable, Trap

PATH = "charts/app/values.yaml"
DIGEST = "sha256:" + "ab" * 32

CASES = [
    Case(
        "an image map, a camelCase *Image map and a plain image string",
        "image:\n  registry: docker.io\n  repository: bitnami/minio\n  tag: '2025.7'\n"
        "clientImage:\n  repository: bitnami/mc\n  tag: '1'\n"
        'sidecar:\n  image: "busybox:1.36"   # plain string\n',
        [
            ("bitnami/minio", "image.repository"),
            ("bitnami/mc", "clientImage.repository"),
            ("busybox:1.36", "sidecar.image"),
        ],
    ),
    Case(
        "`name` for `repository` beside a tag",
        "image:\n  registry: ghcr.io\n  name: acme/hound\n  tag: v0.5.1\n",
        [("acme/hound", "image.name")],
    ),
    Case(
        "`name` with a digest key",
        f"worker:\n  image:\n    name: nginx\n    tag: '1.27'\n    digest: {DIGEST}\n",
        [("nginx", "worker.image.name")],
    ),
    Case(
        "repository wins over a name beside it",
        "image:\n  name: web\n  repository: nginx\n  tag: '1.27'\n  digest: ''\n",
        [("nginx", "image.repository")],
    ),
    Case(
        "a Chart.yaml's image annotation",
        "apiVersion: v2\nname: app\nannotations:\n  images: |\n    - name: app\n"
        "      image: docker.io/bitnami/app:1.0\n",
        [("docker.io/bitnami/app:1.0", "annotations.images: [0].image")],
        path="charts/app/Chart.yaml",
    ),
]

TRAPS = [
    Trap(
        "GitLab's image map: `name` is the whole reference, and there is no tag key",
        "image:\n  name: registry.example.com/ci/helm:5.0.1\n  entrypoint: ['']\n",
    ),
    Trap("a name that carries its own tag", "image:\n  name: nginx:1.27\n  tag: '1.27'\n"),
    Trap("a name that carries a digest", f"image:\n  name: nginx@{DIGEST}\n  tag: '1.27'\n"),
    Trap(
        "tag only: the repository is the upstream chart's",
        "redis-ha:\n  image:\n    tag: 8.10.1-alpine\n",
    ),
    Trap(
        "settings named like images",
        "settings:\n  image: true\n  pullImage: 3\n  defaultImage: 'not an image'\n"
        "  imagePullPolicy: Always\n  imageTagOnly:\n    tag: '1.2'\n"
        "images:\n  repository: us-docker.pkg.dev/acme/shop\n  tag: ''\n",
    ),
    Trap(
        "a Concourse pipeline: a task's image names a resource, a put's a tarball",
        "resources:\n- name: app-image\n  type: registry-image\n  source: {repository: acme/app}\n"
        "jobs:\n- name: build\n  plan:\n  - task: test\n    image: app-image\n    file: ci/test.yml\n"
        "  - put: app-image\n    params: {image: image/image.tar}\n",
        path="ci/pipeline.yml",
    ),
    Trap(
        "a Concourse task config",
        "platform: linux\nimage: rootfs\nrun: {path: make}\n",
        path="ci/tasks/make.yml",
    ),
    Trap(
        "broken YAML of another kind is that kind's to report",
        "image:\n  repository: [x\n",
        path="ci/pipeline.yml",
    ),
    Trap(
        "broken YAML in a chart's templates is not values",
        "image:\n  repository: [x\n",
        path="chart/templates/values-x.yaml",
    ),
]

BROKEN = [
    Broken("broken values", "image:\n  repository: [x\n", 3),
    Broken("broken Chart.yaml", "image:\n  repository: [x\n", 3, path="Chart.yaml"),
]

# Counted by reading each file: values files by their image maps (`image:`, `*Image:` with
# `repository`), Chart.yaml files by the entries of `annotations.images`.
CORPUS = {
    # image, clientImage, console.image, defaultInitContainers.volumePermissions.image.
    "bitnami__charts/bitnami/minio/values.yaml": 4,
    "bitnami__charts/bitnami/minio/Chart.yaml": 4,
    # mongodb, tls nginx, autoDiscovery kubectl, dnsCheck os-shell, volumePermissions os-shell,
    # metrics exporter: six maps, five distinct images in Chart.yaml (os-shell once).
    "bitnami__charts/bitnami/mongodb/values.yaml": 6,
    "bitnami__charts/bitnami/mongodb/Chart.yaml": 5,
    # `images: {repository, tag: ""}` is a registry prefix the templates extend: not reported.
    "GoogleCloudPlatform__microservices-demo/helm-chart/values.yaml": 0,
    # `image: {tag: …}` overrides only the tag of the upstream chart: no reference.
    "argoproj__argo-cd/manifests/ha/base/redis-ha/chart/values.yaml": 0,
    # a JSON 6902 patch whose `value` is a container: its `image` string.
    "argoproj__argo-cd/manifests/ha/base/redis-ha/overlays/deployment-initContainers.yaml": 1,
    # Skaffold's artifacts are images it builds.
    "GoogleCloudPlatform__microservices-demo/skaffold.yaml": 0,
}

TABLE = FixtureTable(
    kind="helm",
    path=PATH,
    claims=["values.yaml", "charts/app/values-prod.yml", "Chart.yaml", "deploy/app.yaml"],
    # Files a CI or build tool's scanner claims by name are left to it.
    ignores=[
        "azure-pipelines.yml",
        ".woodpecker.yaml",
        ".woodpecker/build.yml",
        ".buildkite/pipeline.yml",
        ".gitlab-ci.yml",
        ".github/workflows/ci.yml",
        "kustomization.yaml",
        "values.json",
    ],
    cases=CASES,
    traps=TRAPS,
    broken=BROKEN,
    corpus=CORPUS,
)
