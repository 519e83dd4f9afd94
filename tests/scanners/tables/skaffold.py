"""Fixtures for the Skaffold scanner: builder and base images and test containers, never the
built artifacts."""

from __future__ import annotations

from tests.scanners.tables import Case, FixtureTable, Trap

PATH = "skaffold.yaml"

CASES = [
    Case(
        "builder and base images",
        "apiVersion: skaffold/v4beta11\nkind: Config\nbuild:\n  artifacts:\n"
        "  - image: app\n    jib:\n      fromImage: gcr.io/distroless/java21:nonroot\n"
        "  - image: api\n    ko:\n      fromImage: 'cgr.dev/chainguard/static:latest'\n"
        "  - image: web\n    buildpacks:\n      builder: gcr.io/buildpacks/builder:v1\n"
        "      runImage: gcr.io/buildpacks/gcp/run:v1\n"
        "  - image: job\n    kaniko:\n      image: gcr.io/kaniko-project/executor:v1.23.2\n"
        "  googleCloudBuild:\n    dockerImage: gcr.io/cloud-builders/docker\n"
        "    kanikoImage: gcr.io/kaniko-project/executor\n"
        "verify:\n- name: smoke\n  container:\n    name: smoke\n    image: alpine:3.20\n"
        'customActions:\n- name: seed\n  containers:\n  - name: seed\n    image: "postgres:16"\n',
        [
            ("gcr.io/distroless/java21:nonroot", "build.artifacts[0].jib.fromImage"),
            ("cgr.dev/chainguard/static:latest", "build.artifacts[1].ko.fromImage"),
            ("gcr.io/buildpacks/builder:v1", "build.artifacts[2].buildpacks.builder"),
            ("gcr.io/buildpacks/gcp/run:v1", "build.artifacts[2].buildpacks.runImage"),
            ("gcr.io/kaniko-project/executor:v1.23.2", "build.artifacts[3].kaniko.image"),
            ("gcr.io/cloud-builders/docker", "build.googleCloudBuild.dockerImage"),
            ("gcr.io/kaniko-project/executor", "build.googleCloudBuild.kanikoImage"),
            ("alpine:3.20", "verify[0].container.image"),
            ("postgres:16", "customActions[0].containers[0].image"),
        ],
    ),
    Case(
        "profiles",
        "apiVersion: skaffold/v3\nkind: Config\nprofiles:\n- name: gcb\n  build:\n"
        "    googleCloudBuild:\n      packImage: gcr.io/k8s-skaffold/pack\n",
        [("gcr.io/k8s-skaffold/pack", "profiles[0].build.googleCloudBuild.packImage")],
    ),
]

TRAPS = [
    Trap(
        "built artifacts are outputs",
        "apiVersion: skaffold/v3\nkind: Config\nbuild:\n  artifacts:\n  - image: emailservice\n"
        "    docker:\n      dockerfile: Dockerfile\n      buildArgs: {BASE: 'alpine:3'}\n"
        "test:\n- image: emailservice\n  structureTests: [./test/*]\ndeploy:\n  docker:\n    images: [emailservice]\n",
    ),
    Trap(
        "patches name paths, not images",
        "apiVersion: skaffold/v3\nprofiles:\n- name: debug\n  patches:\n  - op: replace\n"
        "    path: /build/artifacts/0/docker/dockerfile\n    value: Dockerfile.debug\n",
    ),
    Trap(
        "not a Skaffold document",
        "build:\n  googleCloudBuild:\n    dockerImage: gcr.io/cloud-builders/docker\n",
    ),
    Trap(
        "odd shapes", "apiVersion: skaffold/v3\nbuild: [a]\nprofiles: 3\nverify: [{container: x}]\n"
    ),
]

# Read: two documents; their artifacts (`image: emailservice` …) are images this project
# builds, and the gcb profile sets only disk, machine and timeout: no input image at all.
CORPUS = {"GoogleCloudPlatform__microservices-demo/skaffold.yaml": 0}

TABLE = FixtureTable(
    kind="skaffold",
    path=PATH,
    claims=["app/skaffold-dev.yml"],
    ignores=["skaffold.env", "values.yaml"],
    cases=CASES,
    traps=TRAPS,
    corpus=CORPUS,
)
