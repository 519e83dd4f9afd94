"""Fixtures for the buildkite scanner."""

from __future__ import annotations

from tests.scanners.tables import FixtureTable, cases, traps

PATH = ".buildkite/pipeline.yml"

CASES: list[tuple[str, str, list[tuple[str, str]]]] = [
    (
        "Docker plugin in the list form, by short name and by URL",
        "steps:\n  - label: test\n    command: go test ./...\n    plugins:\n"
        '      - docker#v5.13.0:\n          image: "golang:1.22"\n          always-pull: true\n'
        "  - wait\n  - command: make\n    plugins:\n"
        "      - https://github.com/buildkite-plugins/docker-buildkite-plugin.git#v5.13.0:\n"
        "          image: node:20\n",
        [
            ("golang:1.22", "steps[0].plugins.docker#v5.13.0.image"),
            (
                "node:20",
                "steps[2].plugins.https://github.com/buildkite-plugins/docker-buildkite-plugin.git#v5.13.0.image",
            ),
        ],
    ),
    (
        "hosted agent images at pipeline and step level, groups",
        "image: ubuntu:24.04\nagents:\n  queue: hosted\nsteps:\n  - group: lint\n    steps:\n"
        "      - command: ruff check\n        image: python:3.12-slim\n",
        [
            ("ubuntu:24.04", "image"),
            ("python:3.12-slim", "steps[0].steps[0].image"),
        ],
    ),
    (
        "older map form of plugins and a pipeline written as a list of steps",
        "- command: rake\n  plugins:\n    docker#v1.4.0:\n      image: ruby:3.3\n",
        [("ruby:3.3", "steps[0].plugins.docker#v1.4.0.image")],
    ),
    (
        "Kubernetes plugin containers",
        "steps:\n  - command: make\n    plugins:\n      - kubernetes:\n          podSpec:\n"
        "            initContainers:\n              - image: busybox:1.36\n"
        "            containers:\n              - image: golang:1.22\n"
        "          sidecars:\n            - image: redis:7\n",
        [
            ("busybox:1.36", "steps[0].plugins.kubernetes.podSpec.initContainers[0].image"),
            ("golang:1.22", "steps[0].plugins.kubernetes.podSpec.containers[0].image"),
            ("redis:7", "steps[0].plugins.kubernetes.sidecars[0].image"),
        ],
    ),
]

TRAPS: list[tuple[str, str]] = [
    (
        "Docker Compose plugin options",
        "steps:\n  - plugins:\n      - docker-compose#v5.0.0:\n          run: app\n"
        "          image-repository: acme/ci\n          cache-from: [app:acme/ci:cache]\n"
        "          build: app\n",
    ),
    (
        "other plugins, agents and env",
        "env:\n  IMAGE: node:20\nsteps:\n  - command: make\n    agents:\n      image: linux\n"
        "    plugins:\n      - ecr#v2.7.0:\n          login: true\n      - acme/deploy#v1:\n"
        "          image: acme/app:1\n      - docker-login#v2\n",
    ),
    ("wait and block steps", "steps:\n  - wait\n  - block: ship?\n  - trigger: deploy\n"),
    (
        "odd shapes",
        "steps: 3\n---\nplugins: [docker]\n---\nsteps:\n  - plugins: [[a]]\n  - plugins: {docker: 3}\n",
    ),
]

TABLE = FixtureTable(
    kind="buildkite",
    path=PATH,
    claims=[
        ".buildkite/pipeline.yml",
        ".buildkite/pipeline.yaml",
        ".buildkite/pipeline.release.yml",
        "org__repo/.buildkite/pipeline-nightly.yml",
        ".buildkite/pipelines/deploy.yml",
        "buildkite.yml",
        ".buildkite.yaml",
    ],
    ignores=[
        ".buildkite/docker-compose.yml",
        ".buildkite/hooks/pre-command",
        ".buildkite/pipeline.sh",
        "pipeline.yml",
        "buildkite.yml.bak",
    ],
    cases=cases(CASES),
    traps=traps(TRAPS),
)
