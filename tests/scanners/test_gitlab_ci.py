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
from tests.scanners.tables.gitlab_ci import CASES

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
def test_gitlab_ci_file_names_are_recognised(path: str, expected: bool) -> None:
    assert is_gitlab_path(path) is expected


def test_a_file_shaped_like_gitlab_ci_is_read_whatever_its_name() -> None:
    text = CASES[-1][1]
    assert found(text, "templates/base_docker_kubectl_image_stage.yml") == CASES[-1][2]


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


def test_inputs_and_variables_are_templated_and_digests_pinned() -> None:
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
def test_job_variables_other_files_and_partial_expansions_are_not_linked(
    path: str, text: str, uses: str
) -> None:
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


@pytest.mark.parametrize(
    "variables",
    [
        "variables:\n  LINT_IMAGE: lint:1.0\n",
        '"variables" :\n  LINT_IMAGE: lint:1.0\n',
        "{'variables': {LINT_IMAGE: 'lint:1.0'}}\n",
        "? variables  # the pipeline's own\n: {LINT_IMAGE: lint:1.0}\n",
    ],
    ids=["block", "quoted", "flow", "explicit-key-with-comment"],
)
def test_a_variables_key_however_it_is_written_defines_for_the_other_files(variables: str) -> None:
    # Files are only parsed for definitions when their text can hold a `variables` key.
    found = linked_occurrences({COMMON: variables, QA: "lint:\n  image: $LINT_IMAGE\n  script: [x]\n"})
    assert found[(COMMON, "lint:1.0")].context == f"variables.LINT_IMAGE (image of {QA}:2)"
