"""Fixtures for the Concourse scanner: images of tasks and resource types, never resources."""

from __future__ import annotations

from tests.scanners.tables import Case, FixtureTable, Trap

PATH = "ci/pipeline.yml"

CASES = [
    Case(
        "a resource type's image and a task's image_resource; resources are version streams",
        "resource_types:\n- name: slack\n  type: registry-image\n  source:\n"
        "    repository: cfcommunity/slack-notification-resource\n    tag: v1.7.0\n"
        "resources:\n- name: app-image\n  type: registry-image\n"
        "  source: {repository: ghcr.io/acme/app, tag: latest}\n"
        "jobs:\n- name: test\n  plan:\n  - task: unit\n    config:\n      platform: linux\n"
        "      image_resource:\n        type: registry-image\n"
        '        source: {repository: golang, tag: "1.22"}\n      run: {path: go}\n'
        "  - task: lint\n    image: app-image\n    file: src/ci/lint.yml\n"
        "  - put: app-image\n    params: {image: image/image.tar}\n",
        [
            ("cfcommunity/slack-notification-resource", "resource_types[0].source.repository"),
            ("golang", "jobs[0].plan[0].config.image_resource.source.repository"),
        ],
    ),
    Case(
        "a task config file",
        "---\nplatform: linux\n\nimage_resource:\n  type: docker-image\n  source:\n"
        "    repository: ghcr.io/acme/builder\n    tag: 2024.05   # nightly\n"
        "run:\n  path: src/ci/build.sh\n",
        [("ghcr.io/acme/builder", "image_resource.source.repository")],
        path="ci/tasks/build.yml",
    ),
]

TRAPS = [
    Trap(
        "Kustomize's resources are file names",
        "resources: [deploy.yaml]\nimages: [{name: nginx, newTag: '1'}]\n",
    ),
    Trap(
        "a Helm values file that happens to say image_resource",
        "image_resource:\n  type: registry-image\n  source: {repository: a, tag: '1'}\n",
    ),
    Trap(
        "a GitHub workflow's jobs are a mapping",
        "on: push\njobs:\n  build:\n    runs-on: ubuntu-latest\n    steps: []\n",
    ),
    Trap(
        "resources of other types",
        "resources:\n- name: src\n  type: git\n  source: {uri: https://github.com/acme/app}\n"
        "resource_types:\n- name: s3\n  type: s3-bucket\n  source: {bucket: acme}\n",
    ),
]

TABLE = FixtureTable(
    kind="concourse",
    path=PATH,
    claims=["ci/tasks/build.yml", "pipeline.yaml"],
    ignores=["pipeline.json", "Dockerfile"],
    cases=CASES,
    traps=TRAPS,
)
