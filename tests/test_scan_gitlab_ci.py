"""GitLab CI scanner: image and services of jobs, templates, default and top level; variables."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pinbot.apply import ApplyError, apply_edits
from pinbot.pipeline import build_changes
from pinbot.plan import Lookup, Plan, lookup_key, plan
from pinbot.scanners import Occurrence, ScanError, Status, scan_files, scan_text
from pinbot.scanners._kinds import is_gitlab_path
from pinbot.scanners.gitlab_ci import SCANNER
from tests.support.corpus import scan_corpus_file

CI = ".gitlab-ci.yml"


def found(text: str, path: str = CI) -> list[tuple[str, str]]:
    """(text at span, context) of each finding; the reference text of unsplicable ones."""
    result = []
    for finding in SCANNER.scan(path, text):
        written = text[finding.start : finding.end]
        result.append(
            (
                written if finding.start != finding.end else finding.reference_text or "",
                finding.context,
            )
        )
    return result


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        (".gitlab-ci.yml", True),
        (".gitlab-ci.yaml", True),
        ("ci/build.gitlab-ci.yml", True),
        (".gitlab/ci/test.yml", True),
        ("org__repo/.gitlab/ci/_common.gitlab-ci.yml", True),
        (".gitlab-ci/deploy.yaml", True),
        ("templates/base_yarn_stage.yml", False),
        (".gitlab/issue_templates/bug.md", False),
        ("my.gitlab-ci.yml.bak", False),
    ],
)
def test_gitlab_path(path: str, expected: bool) -> None:
    assert is_gitlab_path(path) is expected


def test_matches_any_yaml() -> None:
    assert SCANNER.matches("templates/base_yarn_stage.yml")
    assert SCANNER.matches("x/y.yaml")
    assert not SCANNER.matches("Dockerfile")


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

TRAPS: list[tuple[str, str, str]] = [
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


@pytest.mark.parametrize(("name", "text", "expected"), CASES, ids=[case[0] for case in CASES])
def test_finds(name: str, text: str, expected: list[tuple[str, str]]) -> None:
    assert found(text) == expected


def test_template_shape_without_gitlab_name() -> None:
    text = CASES[-1][1]
    assert found(text, "templates/base_docker_kubectl_image_stage.yml") == CASES[-1][2]


@pytest.mark.parametrize(("name", "path", "text"), TRAPS, ids=[trap[0] for trap in TRAPS])
def test_traps(name: str, path: str, text: str) -> None:
    assert found(text, path) == []


def test_variable_used_elsewhere_is_not_rewritable() -> None:
    text = (
        "variables:\n  TOOLS: ghcr.io/acme/tools:2\n  ONLY: ghcr.io/acme/only:1\n"
        "a:\n  image: $TOOLS\n  script:\n    - docker pull ${TOOLS}\n"
        "b:\n  image: $ONLY\n  script: [x]\n"
    )
    definitions = {f.context: f for f in SCANNER.scan(CI, text) if "variables" in f.context}
    assert definitions["variables.TOOLS"].rewritable is False
    assert "also used" in (definitions["variables.TOOLS"].note or "")
    assert definitions["variables.ONLY"].rewritable is True
    assert definitions["variables.ONLY"].note == "image of b.image"


def test_driver_statuses() -> None:
    text = (
        "spec:\n  inputs:\n    image:\n      default: python:3.12\n---\n"
        "a:\n  image: $[[ inputs.image ]]\n  script: [x]\n"
        "b:\n  image: alpine@sha256:"
        + "d" * 64
        + "\n  services: ['docker:${V}-dind']\n  script: [x]\n"
    )
    outcome = scan_text(CI, text)
    assert outcome.errors == []
    assert [(o.text, o.status, o.kind) for o in outcome.occurrences] == [
        ("python:3.12", Status.UNPINNED, "gitlab-ci"),
        ("$[[ inputs.image ]]", Status.TEMPLATED, "gitlab-ci"),
        ("alpine@sha256:" + "d" * 64, Status.PINNED, "gitlab-ci"),
        ("docker:${V}-dind", Status.TEMPLATED, "gitlab-ci"),
    ]


def test_yaml_error_names_the_line() -> None:
    with pytest.raises(ScanError) as caught:
        list(SCANNER.scan(CI, "a:\n  image: node\n  script: [x\nb: {\n"))
    assert caught.value.line is not None


def test_broken_yaml_of_another_kind_is_left_to_its_scanner() -> None:
    assert list(SCANNER.scan("chart/values.yaml", "a: [b\n")) == []


@given(
    quote=st.sampled_from(["", "'", '"']),
    comment=st.sampled_from(["", "  # base", " #"]),
    newline=st.sampled_from(["\n", "\r\n"]),
    indent=st.integers(min_value=1, max_value=6),
    form=st.sampled_from(["image", "image.name", "services", "services.name"]),
    reference=st.sampled_from(
        ["node:20", "registry.gitlab.com/g/p/i:1.0", "localhost:5000/x", "a@sha256:" + "e" * 64]
    ),
    bom=st.booleans(),
)
def test_span_holds_the_reference(
    quote: str, comment: str, newline: str, indent: int, form: str, reference: str, bom: bool
) -> None:
    pad = " " * indent
    value = f"{quote}{reference}{quote}{comment}"
    body = {
        "image": [f"{pad}image: {value}"],
        "image.name": [f"{pad}image:", f"{pad * 2}name: {value}", f"{pad * 2}entrypoint: ['']"],
        "services": [f"{pad}services:", f"{pad}- {value}"],
        "services.name": [f"{pad}services:", f"{pad * 2}- name: {value}", f"{pad * 2}  alias: s"],
    }[form]
    text = (
        ("\ufeff" if bom else "") + newline.join(["job one:", *body, f"{pad}script: [x]"]) + newline
    )
    findings = list(SCANNER.scan("ci/templates.yml", text))
    assert [text[f.start : f.end] for f in findings] == [reference]


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


@pytest.mark.corpus
@pytest.mark.parametrize(("relative", "count"), sorted(CORPUS.items()))
def test_corpus(relative: str, count: int) -> None:
    occurrences = [o for o in scan_corpus_file(relative) if o.kind == "gitlab-ci"]
    assert len(occurrences) == count


# A pipeline split over included files: variables in one, the jobs that use them in another.
COMMON = ".gitlab/ci/_common.gitlab-ci.yml"
QA = ".gitlab/ci/qa.gitlab-ci.yml"
COMMON_TEXT = (
    "variables:\n  LINT_IMAGE: registry.gitlab.com/g/lint:1.0\n  HUGO_IMAGE: hugo:0.1\n"
    "  TOOLS: ghcr.io/acme/tools:2\n  DB: postgres:16\n  GO_VERSION: '1.22'\n"
    "default:\n  image: $TOOLS\n"
)
QA_TEXT = (
    "lint:\n  image: $LINT_IMAGE\n  script: [lint]\n"
    "links:\n  image:\n    name: ${LINT_IMAGE}\n  services: [$DB]\n  script: [check]\n"
    "docs:\n  image: ${HUGO_IMAGE}\n  script: [echo $HUGO_IMAGE]\n"
    "tools:\n  image: $TOOLS\n  script: [x]\n"
)


def linked_occurrences(files: dict[str, str]) -> dict[tuple[str, str], Occurrence]:
    """Occurrences of `scan_files` over the set, by (file, text)."""
    outcomes = scan_files({path: text.encode() for path, text in files.items()})
    return {(o.file, o.text): o for outcome in outcomes.values() for o in outcome.occurrences}


def test_a_variable_another_file_uses_as_an_image_is_reported_where_it_is_defined() -> None:
    found = linked_occurrences({COMMON: COMMON_TEXT, QA: QA_TEXT})
    lint = found[(COMMON, "registry.gitlab.com/g/lint:1.0")]
    assert (lint.line, lint.status, lint.rewritable) == (2, Status.UNPINNED, True)
    assert lint.context == f"variables.LINT_IMAGE (image of {QA}:2)"
    assert lint.note == f"image of {QA}:2 and 1 more"
    db = found[(COMMON, "postgres:16")]
    assert (db.rewritable, db.context) == (True, f"variables.DB (image of {QA}:7)")
    hugo = found[(COMMON, "hugo:0.1")]
    assert hugo.rewritable is False
    assert hugo.note == f"image of {QA}:10; also used outside image keys, not rewritten"
    assert (COMMON, "1.22") not in found
    # The uses stay templated; nothing is reported twice.
    assert found[(QA, "$LINT_IMAGE")].status is Status.TEMPLATED
    outcomes = scan_files({COMMON: COMMON_TEXT.encode(), QA: QA_TEXT.encode()})
    spans = [(o.file, o.start) for outcome in outcomes.values() for o in outcome.occurrences]
    assert len(spans) == len(set(spans)) == 10


def test_a_variable_the_defining_file_uses_too_keeps_its_own_report() -> None:
    alone = {(o.text, o.context, o.note) for o in scan_text(COMMON, COMMON_TEXT).occurrences}
    together = linked_occurrences({COMMON: COMMON_TEXT, QA: QA_TEXT})
    tools = together[(COMMON, "ghcr.io/acme/tools:2")]
    assert ("ghcr.io/acme/tools:2", tools.context, tools.note) in alone
    assert (tools.context, tools.note) == ("variables.TOOLS", "image of default.image")


@pytest.mark.parametrize(
    ("other", "note"),
    [
        ("variables:\n  LINT_IMAGE: lint:2\n", "defined 2 times"),
        ("build:\n  variables:\n    LINT_IMAGE: lint:2\n  script: [x]\n", "defined 2 times"),
        ("build:\n  script: ['docker pull ${LINT_IMAGE}']\n", "also used outside image keys"),
        ("build:\n  script: ['echo %LINT_IMAGE%']\n", "also used outside image keys"),
    ],
)
def test_a_variable_defined_again_or_expanded_elsewhere_is_not_rewritable(
    other: str, note: str
) -> None:
    found = linked_occurrences({COMMON: COMMON_TEXT, QA: QA_TEXT, "ci/other.gitlab-ci.yml": other})
    lint = found[(COMMON, "registry.gitlab.com/g/lint:1.0")]
    assert lint.rewritable is False
    assert note in (lint.note or "")


USES = "lint:\n  image: $LINT_IMAGE\n  script: [lint]\n"


@pytest.mark.parametrize(
    ("path", "text", "uses"),
    [
        # Job variables are the job's own, not a pipeline-wide definition.
        (COMMON, "build:\n  variables:\n    LINT_IMAGE: lint:2\n  script: [x]\n", USES),
        # Neither GitLab CI by name nor by shape.
        ("deploy/values.yaml", "variables:\n  LINT_IMAGE: lint:2\n", USES),
        # Expanded, but never as an image key's whole value.
        (
            COMMON,
            "variables:\n  LINT_IMAGE: lint:2\n",
            "lint:\n  image: ${LINT_IMAGE}-slim\n  script: [$LINT_IMAGE]\n",
        ),
    ],
)
def test_what_is_not_linked(path: str, text: str, uses: str) -> None:
    found = linked_occurrences({path: text, QA: uses})
    assert [key for key in found if key[0] == path] == []


def test_a_compose_file_naming_the_same_variable_is_not_part_of_the_pipeline() -> None:
    compose = "services:\n  web:\n    image: $LINT_IMAGE\n"
    found = linked_occurrences({COMMON: COMMON_TEXT, "compose.yaml": compose})
    assert (COMMON, "registry.gitlab.com/g/lint:1.0") not in found


def test_one_file_rescanned_with_its_set_sees_the_linked_definition() -> None:
    files = {COMMON: COMMON_TEXT, QA: QA_TEXT}
    expected = linked_occurrences(files)
    alone = scan_text(COMMON, COMMON_TEXT).occurrences
    assert "registry.gitlab.com/g/lint:1.0" not in [o.text for o in alone]
    again = scan_text(COMMON, COMMON_TEXT, linked=files).occurrences
    assert again == [o for key, o in expected.items() if key[0] == COMMON]


def test_a_linked_definition_is_pinned_and_checked_with_its_set() -> None:
    files = {COMMON: COMMON_TEXT.encode(), QA: QA_TEXT.encode()}
    occurrences = [o for outcome in scan_files(files).values() for o in outcome.occurrences]
    lookups = {
        lookup_key(o.reference): Lookup("sha256:" + "a" * 64, verified=True)
        for o in occurrences
        if o.reference is not None
    }
    edits = plan(occurrences, lookups).edits
    assert {(e.file, e.occurrence.text) for e in edits} == {
        (COMMON, "registry.gitlab.com/g/lint:1.0"),
        (COMMON, "postgres:16"),
        (COMMON, "ghcr.io/acme/tools:2"),
    }
    changes, errors = build_changes(files, Plan(edits=edits))
    assert errors == []
    (change,) = changes
    updated = change.updated.decode()
    assert updated == COMMON_TEXT.replace(":1.0", ":1.0@sha256:" + "a" * 64).replace(
        ":16", ":16@sha256:" + "a" * 64
    ).replace(":2\n", ":2@sha256:" + "a" * 64 + "\n")
    # Checked alone, the file shows no occurrence where the linked edit wrote: refused.
    with pytest.raises(ApplyError, match="expected"):
        apply_edits(COMMON, files[COMMON], edits)
