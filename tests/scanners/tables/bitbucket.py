"""Fixtures for the bitbucket-pipelines scanner."""

from __future__ import annotations

from tests.scanners.tables import FixtureTable, cases, traps

PATH = "bitbucket-pipelines.yml"

CASES: list[tuple[str, str, list[tuple[str, str]]]] = [
    (
        "build image as a string and step images in branches, parallel groups and stages",
        "image: node:20\npipelines:\n  default:\n    - step:\n        image: 'python:3.12'\n"
        "        script: [pytest]\n    - parallel:\n        steps:\n          - step:\n"
        "              image: golang:1.22\n              script: [go test]\n"
        "  branches:\n    main:\n      - stage:\n          steps:\n            - step:\n"
        '                image: "rust:1.77"\n                script: [cargo test]\n',
        [
            ("node:20", "image"),
            ("python:3.12", "pipelines.default[0].step.image"),
            ("golang:1.22", "pipelines.default[1].parallel.steps[0].step.image"),
            ("rust:1.77", "pipelines.branches.main[0].stage.steps[0].step.image"),
        ],
    ),
    (
        "image maps with credentials, service definitions",
        "image:\n  name: acme.jfrog.io/ci/build:7\n  username: $USER\n  password: $PASS\n"
        "definitions:\n  services:\n    postgres:\n      image: postgres:16\n      variables: {POSTGRES_DB: t}\n"
        "    redis:\n      image:\n        name: redis:7\n    docker:\n      memory: 2048\n",
        [
            ("acme.jfrog.io/ci/build:7", "image.name"),
            ("postgres:16", "definitions.services.postgres.image"),
            ("redis:7", "definitions.services.redis.image.name"),
        ],
    ),
    (
        "anchored step definitions are found once, where defined",
        "definitions:\n  steps:\n    - step: &deploy\n        name: Deploy\n        image: alpine/git:latest\n"
        "        script: [git push]\npipelines:\n  default:\n    - step: *deploy\n  custom:\n"
        "    again:\n      - step: *deploy\n",
        [("alpine/git:latest", "definitions.steps[0].step.image")],
    ),
    (
        "docker:// pipes: the span excludes the scheme",
        "pipelines:\n  default:\n    - step:\n        script:\n          - pipe: atlassian/aws-ecr-push-image:2.5.0\n"
        "          - pipe: docker://acme/my-pipe:1.0\n            variables: {A: b}\n"
        "        after-script:\n          - pipe: 'docker://acme/notify:2'\n",
        [
            ("acme/my-pipe:1.0", "pipelines.default[0].step.script[1].pipe"),
            ("acme/notify:2", "pipelines.default[0].step.after-script[0].pipe"),
        ],
    ),
]

TRAPS: list[tuple[str, str]] = [
    (
        "service names in steps",
        "pipelines:\n  default:\n    - step:\n        services: [docker, postgres]\n        script: [x]\n",
    ),
    (
        "Bitbucket pipes are not images",
        "pipelines:\n  default:\n    - step:\n        script:\n          - pipe: atlassian/slack-notify:2.0.0\n",
    ),
    (
        "runner labels, caches, clone",
        "clone:\n  depth: 2\ndefinitions:\n  caches:\n    m2: ~/.m2\npipelines:\n  default:\n    - step:\n        runs-on: [self.hosted, linux]\n        script: [x]\n",
    ),
    (
        "odd shapes",
        "image: [a]\n---\n- step: {image: x}\n---\npipelines:\n  default:\n    - step: 3\n    - step:\n        image: {}\n",
    ),
    (
        "comments and scripts",
        "pipelines:\n  default:\n    - step:\n        # image: node:20\n        script:\n          - docker run node:20\n",
    ),
]

# Read: the build image on line 1, and the `image:` of 10 anchored step definitions
# (build-and-push ×3 atlassian/default-image, 6 deploy/turn-on alpine/git, 1 alpine); the
# pipelines only alias those steps, and `pipe: atlassian/aws-ecr-push-image` is a pipe.
CORPUS = {"4Science__DSpace/bitbucket-pipelines.yml": 11}

TABLE = FixtureTable(
    kind="bitbucket-pipelines",
    path=PATH,
    claims=["bitbucket-pipelines.yml", "x__y/bitbucket-pipelines.yaml"],
    ignores=["pipelines.yml"],
    cases=cases(CASES),
    traps=traps(TRAPS),
    corpus=CORPUS,
)
