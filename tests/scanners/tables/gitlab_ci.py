"""Fixtures for the gitlab-ci scanner."""

from __future__ import annotations

from tests.scanners.tables import FixtureTable, Trap, cases

PATH = CI = ".gitlab-ci.yml"

CASES: list[tuple[str, str, list[tuple[str, str]]]] = [
    (
        "top level, default and job images",
        "image: ruby:3.3\ndefault:\n  image: 'alpine:3.20'\n  services: [postgres:16]\n"
        'build:\n  image: "golang:1.22"\n  script: [make]\n',
        [
            ("ruby:3.3", "image"),
            ("alpine:3.20", "default.image"),
            ("postgres:16", "default.services[0]"),
            ("golang:1.22", "build.image"),
        ],
    ),
    (
        "image map with entrypoint, pull policy and docker platform",
        "build:\n  image:\n    name: gcr.io/kaniko-project/executor:v1.24.0-debug\n"
        '    entrypoint: [""]\n    pull_policy: if-not-present\n    docker:\n      platform: arm64/v8\n'
        "  script: [x]\n",
        [("gcr.io/kaniko-project/executor:v1.24.0-debug", "build.image.name")],
    ),
    (
        "services as strings and maps with alias and entrypoint",
        "test:\n  services:\n    - docker:28-dind\n    - name: postgres:16  # db\n      alias: db\n"
        "      entrypoint: [docker-entrypoint.sh]\n      command: [postgres]\n  script: [x]\n",
        [("docker:28-dind", "test.services[0]"), ("postgres:16", "test.services[1].name")],
    ),
    (
        "hidden jobs, extends and an anchor merged into jobs: one finding at the anchor",
        ".base: &base\n  image: node:20\n  services:\n    - redis:7\n"
        "lint:\n  <<: *base\n  script: [npm run lint]\n"
        "test:\n  extends: .base\n  script: [npm test]\n",
        [("node:20", ".base.image"), ("redis:7", ".base.services[0]")],
    ),
    (
        "variables used as the image are references; templated values stay templated",
        "variables:\n  CI_IMAGE: registry.example.com/ci:1.4\n  GO: '1.22'\n"
        "default:\n  image: $CI_IMAGE\n"
        "build:\n  image: golang:${GO}\n  script: [make]\n",
        [
            ("registry.example.com/ci:1.4", "variables.CI_IMAGE"),
            ("$CI_IMAGE", "default.image"),
            ("golang:${GO}", "build.image"),
        ],
    ),
    (
        "job variables in map form, used through ${…}",
        "build:\n  variables:\n    BUILDER:\n      value: 'docker:28'\n      description: builder\n"
        "  image: ${BUILDER}\n  script: [x]\n",
        [("docker:28", "build.variables.BUILDER.value"), ("${BUILDER}", "build.image")],
    ),
    (
        "component inputs used as the image",
        "spec:\n  inputs:\n    image:\n      default: python:3.12\n    stage:\n      default: test\n"
        "---\nlint:\n  image: $[[ inputs.image ]]\n  stage: $[[ inputs.stage ]]\n  script: [ruff]\n",
        [("python:3.12", "spec.inputs.image.default"), ("$[[ inputs.image ]]", "lint.image")],
    ),
    (
        "job names with colons and !reference (libyaml alone cannot read this)",
        ".cache:\n  before_script: [echo]\n"
        "go:lint:\n  image: golang:1.22\n  before_script:\n    - !reference [.google-oidc:auth, before_script]\n"
        "  script: [x]\n",
        [("golang:1.22", "go:lint.image")],
    ),
    (
        "a template file recognised by its shape",
        "# base_docker_kubectl_image_stage\n.kubectl:\n  image:\n    name: ghcr.io/acme/kubectl:6.65.0\n"
        '    entrypoint: [""]\n',
        [("ghcr.io/acme/kubectl:6.65.0", ".kubectl.image.name")],
    ),
]

TRAPS: list[tuple[str, str, str]] = [  # (name, path, text)
    (
        "unused image-like variables, names that are not images",
        CI,
        "variables:\n  IMAGE: $CI_REGISTRY_IMAGE:$CI_COMMIT_SHA\n  BASE: alpine:3\n"
        "deploy:\n  environment:\n    name: review/$CI_COMMIT_REF_NAME\n  release:\n    name: v1\n"
        "  artifacts:\n    name: out\n  script: [docker push $IMAGE]\n",
    ),
    (
        "!reference in place of services and image",
        CI,
        "build:\n  services: !reference [.docker, services]\n  image: !reference [.b, image]\n  script: [x]\n",
    ),
    (
        "component include inputs, trigger and cache",
        CI,
        "include:\n  - component: gitlab.com/c/c@1\n    inputs:\n      image: node:20\n"
        "bridge:\n  trigger:\n    include: child.yml\ncache:\n  key: x\n",
    ),
    ("comments", CI, "build:\n  # image: node:20\n  script: [x]\n"),
    (
        "odd shapes",
        CI,
        "- a\n---\nbuild: 3\n---\nbuild:\n  image: [x]\n  services: {a: b}\n  script: x\n---\n",
    ),
    (
        "compose file",
        "docker-compose.yml",
        "services:\n  web:\n    image: nginx:1.27\n    build:\n      context: .\n",
    ),
    (
        "kubernetes manifest",
        "deploy/pod.yaml",
        "apiVersion: v1\nkind: Pod\nspec:\n  containers:\n    - name: a\n      image: nginx\n",
    ),
    ("gitpod", ".gitpod.yml", "image: gitpod/workspace-full\ntasks:\n  - init: make\n"),
    (
        "helm values",
        "chart/values.yaml",
        "image:\n  repository: nginx\n  tag: '1.27'\njob:\n  image: busybox\n",
    ),
    (
        "bitbucket pipelines",
        "bitbucket-pipelines.yml",
        "image: node:20\npipelines:\n  default:\n    - step:\n        script: [npm test]\n",
    ),
    (
        "travis",
        ".travis.yml",
        "language: scala\nservices:\n  - docker\nscript:\n  - make\n",
    ),
]

# Counted by reading each file: `image`, `image.name`, `services[]` and `services[].name` in
# jobs, hidden jobs and `default`; plus variables defined in the same file whose name is the
# whole value of such a key.
CORPUS = {
    "SocialGouv__gitlab-ci-yml/.gitlab-ci.yml": 1,
    # only `extends` and `include`: the images live in the included templates
    "SocialGouv__gitlab-ci-yml/autodevops.yml": 0,
    # one `.autodevops_stop_review` image; the rest is extends/environment names
    "SocialGouv__gitlab-ci-yml/base_autodevops.yml": 1,
    "SocialGouv__gitlab-ci-yml/base_azure_db_stage.yml": 1,
    "SocialGouv__gitlab-ci-yml/base_create_namespace_stage.yml": 0,
    "SocialGouv__gitlab-ci-yml/base_delete_useless_k8s_ns_stage.yml": 1,
    "SocialGouv__gitlab-ci-yml/base_delete_useless_managed_postgresql_stage.yml": 1,
    "SocialGouv__gitlab-ci-yml/base_deploy_app_chart_stage.yml": 0,
    "SocialGouv__gitlab-ci-yml/base_deploy_kosko_stage.yml": 1,
    "SocialGouv__gitlab-ci-yml/base_docker_helm_image_stage.yml": 1,
    "SocialGouv__gitlab-ci-yml/base_docker_kubectl_image_stage.yml": 1,
    # `${CI_REGISTRY_IMAGE}:${CI_COMMIT_SHA}`: templated
    "SocialGouv__gitlab-ci-yml/base_migrate_azure_db.yml": 1,
    # anchored `.notify_stage` image, reached again through extends: one
    "SocialGouv__gitlab-ci-yml/base_notify_github_stage.yml": 1,
    "SocialGouv__gitlab-ci-yml/base_notify_mattermost.yml": 1,
    "SocialGouv__gitlab-ci-yml/base_nuclei_scan.yml": 1,
    "SocialGouv__gitlab-ci-yml/base_register_docker_stage.yml": 2,
    "SocialGouv__gitlab-ci-yml/base_register_kaniko_stage.yml": 1,
    "SocialGouv__gitlab-ci-yml/base_semantic_release_stage.yml": 1,
    "SocialGouv__gitlab-ci-yml/base_trigger_stage.yml": 1,
    # `IMAGE: $CI_REGISTRY_IMAGE:$CI_COMMIT_SHA` is a variable, never an `image:` value
    "SocialGouv__gitlab-ci-yml/base_trivy_scan.yml": 1,
    "SocialGouv__gitlab-ci-yml/base_yarn_stage.yml": 4,
    "gitlabhq__gitlab-runner/.gitlab-ci.yml": 0,
    # default.image $CI_IMAGE + its variable, .docker services, .stage_done image
    "gitlabhq__gitlab-runner/.gitlab/ci/_common.gitlab-ci.yml": 4,
    # `.instance-default-docker: $RUNNER_TAG_DOCKER` is a runner tag
    "gitlabhq__gitlab-runner/.gitlab/ci/_project_canonical.gitlab-ci.yml": 0,
    # needs the YAML 1.2 fallback: `!reference [.google-oidc:auth, before_script]`
    "gitlabhq__gitlab-runner/.gitlab/ci/build.gitlab-ci.yml": 4,
    "gitlabhq__gitlab-runner/.gitlab/ci/docs.gitlab-ci.yml": 1,
    "gitlabhq__gitlab-runner/.gitlab/ci/postrelease.gitlab-ci.yml": 2,
    # 8 `$…_IMAGE` variables defined in _common (another file) and node:alpine
    "gitlabhq__gitlab-runner/.gitlab/ci/qa.gitlab-ci.yml": 9,
    "gitlabhq__gitlab-runner/.gitlab/ci/release.gitlab-ci.yml": 0,
    "gitlabhq__gitlab-runner/.gitlab/ci/test.gitlab-ci.yml": 2,
}

TABLE = FixtureTable(
    kind="gitlab-ci",
    path=PATH,
    claims=["templates/base_yarn_stage.yml", "x/y.yaml"],
    ignores=["Dockerfile"],
    cases=cases(CASES),
    traps=[Trap(name, text, path) for name, path, text in TRAPS],
    corpus=CORPUS,
)
