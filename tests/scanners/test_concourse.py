"""The Concourse scanner: task images pinned by `image_resource.version.digest`, resource type
images reported but not pinnable, resources and other YAML left alone."""

from __future__ import annotations

import pytest

from pinbot.plan import NoticeKind
from pinbot.scanners import Status, scan_text
from pinbot.scanners._kinds import is_concourse_document
from pinbot.scanners._yaml import compose_documents
from pinbot.scanners.concourse import (
    ECR,
    NO_INSERT,
    NO_TAG,
    NO_TYPE_PIN,
    NO_VERSION_DIGEST,
    NUMBER_TAG,
    SCANNER,
)
from pinbot.scanners.interface import Finding
from tests.support.roundtrip import pin_file

DIGEST = "sha256:" + "ab" * 32
NEW = "sha256:" + "a" * 64
OLD = "sha256:" + "b" * 64

PIPELINE = f"""\
resource_types:
- name: slack
  type: registry-image
  source:
    repository: cfcommunity/slack-notification-resource
    tag: v1.7.0
- name: pr
  type: docker-image
  source: {{repository: teliaoss/github-pr-resource, tag: v0.23.0, digest: {DIGEST}}}
- name: s3
  type: s3-bucket
  source: {{bucket: acme, regexp: resource/(.*).tgz}}
resources:
- name: app-image
  type: registry-image
  source: {{repository: ghcr.io/acme/app, tag: latest}}
- name: src
  type: git
  source: {{uri: https://github.com/acme/app, branch: main}}
jobs:
- name: test
  plan:
  - get: src
    trigger: true
  - in_parallel:
    - task: unit
      config:
        platform: linux
        image_resource:
          type: registry-image
          source:
            repository: golang
            tag: "1.22"
        run: {{path: go, args: [test, ./...]}}
    - task: lint
      image: app-image
      file: src/ci/lint.yml
  - task: pinned
    config:
      platform: linux
      image_resource:
        type: registry-image
        source: {{repository: alpine, tag: "3.20"}}
        version: {{digest: "{DIGEST}"}}
      run: {{path: true}}
  - put: app-image
    params: {{image: image/image.tar}}
"""


def _findings(text: str, path: str = "ci/pipeline.yml") -> list[Finding]:
    return sorted(SCANNER.scan(path, text), key=lambda f: f.start)


def _apply(text: str, finding: Finding, digest: str = DIGEST) -> str:
    slot = finding.digest_slot
    assert slot is not None
    return text[: slot.start] + slot.prefix + digest + slot.suffix + text[slot.end :]


def test_pipeline_images_are_composed_from_their_resource_source() -> None:
    got = [
        (PIPELINE[f.start : f.end], f.context, f.reference_text, f.rewritable, f.note)
        for f in _findings(PIPELINE)
    ]
    assert got == [
        (
            "cfcommunity/slack-notification-resource",
            "resource_types[0].source.repository",
            "cfcommunity/slack-notification-resource:v1.7.0",
            False,
            NO_TYPE_PIN,
        ),
        # source.digest is not a field the resource reads: the reference is not pinned by it.
        (
            "teliaoss/github-pr-resource",
            "resource_types[1].source.repository",
            "teliaoss/github-pr-resource:v0.23.0",
            False,
            NO_TYPE_PIN,
        ),
        (
            "golang",
            "jobs[0].plan[1].in_parallel[0].config.image_resource.source.repository",
            "golang:1.22",
            True,
            None,
        ),
        (
            "alpine",
            "jobs[0].plan[2].config.image_resource.source.repository",
            f"alpine:3.20@{DIGEST}",
            True,
            None,
        ),
    ]
    assert all(f.structured for f in _findings(PIPELINE))


def test_a_first_pin_adds_a_version_after_the_image_resource() -> None:
    golang = _findings(PIPELINE)[2]
    pinned = _apply(PIPELINE, golang)
    assert (
        '            tag: "1.22"\n'
        "          version:\n"
        f"            digest: {DIGEST}\n"
        "        run: {path: go"
    ) in pinned
    again = _findings(pinned)[2]
    assert again.reference_text == f"golang:1.22@{DIGEST}"
    assert again.digest_slot is not None and not again.digest_slot.prefix


def test_an_existing_version_digest_is_rewritten_in_place() -> None:
    alpine = _findings(PIPELINE)[3]
    slot = alpine.digest_slot
    assert slot is not None and PIPELINE[slot.start : slot.end] == DIGEST
    assert f'version: {{digest: "{NEW}"}}' in _apply(PIPELINE, alpine, NEW)


TASK = """\
---
platform: linux

image_resource:
  type: docker-image
  source:
    repository: ghcr.io/acme/builder
    tag: 2024.05   # nightly
inputs:
- name: src
run:
  path: src/ci/build.sh
"""


def test_a_task_file_image_gets_its_version_after_the_entry_keeping_the_comment() -> None:
    (finding,) = _findings(TASK, "ci/tasks/build.yml")
    assert (TASK[finding.start : finding.end], finding.context, finding.reference_text) == (
        "ghcr.io/acme/builder",
        "image_resource.source.repository",
        "ghcr.io/acme/builder:2024.05",
    )
    # The version goes after the entry's last line, comment kept, before the next key.
    assert _apply(TASK, finding) == TASK.replace(
        "# nightly\n", f"# nightly\n  version:\n    digest: {DIGEST}\n"
    )


def _task(image_resource: str) -> str:
    return f"platform: linux\nimage_resource:\n{image_resource}run: {{path: true}}\n"


@pytest.mark.parametrize(
    ("image_resource", "reference", "rewritable", "note"),
    [
        # registry-image without a tag follows semver tags: nothing names the tag to resolve
        ("  type: registry-image\n  source: {repository: alpine}\n", "alpine", False, NO_TAG),
        # docker-image without a tag means latest, as a reference does
        ("  type: docker-image\n  source: {repository: alpine}\n", "alpine", True, None),
        # YAML reads 1.20 as the number 1.2, which is the tag Concourse asks for
        (
            "  type: registry-image\n  source: {repository: golang, tag: 1.20}\n",
            "golang:1.20",
            False,
            NUMBER_TAG,
        ),
        (
            "  type: registry-image\n  source: {repository: golang, tag: 1.21}\n",
            "golang:1.21",
            True,
            None,
        ),
        # ECR: the repository is completed from aws_region at run time
        (
            "  type: registry-image\n  source: {repository: app, tag: v1, aws_region: us-east-1}\n",
            "app:v1",
            False,
            ECR,
        ),
        # a version without a digest key: nothing to write into
        (
            "  type: registry-image\n  source: {repository: alpine, tag: '3'}\n"
            "  version: {tag: '3'}\n",
            "alpine:3",
            False,
            NO_VERSION_DIGEST,
        ),
    ],
)
def test_an_image_resource_is_rewritable_only_when_its_tag_and_digest_slot_are_known(
    image_resource: str, reference: str, rewritable: bool, note: str | None
) -> None:
    text = _task(image_resource)
    (finding,) = _findings(text)
    assert (finding.reference_text, finding.rewritable, finding.note) == (
        reference,
        rewritable,
        note,
    )


def test_no_version_line_where_it_cannot_go() -> None:
    flow = "platform: linux\nimage_resource: {type: registry-image, source: {repository: a, tag: '1'}}\nrun: {path: x}\n"
    (finding,) = _findings(flow)
    assert (finding.rewritable, finding.note, finding.digest_slot) == (False, NO_INSERT, None)
    # the entry ends in a value merged from an anchor: a line there would land elsewhere
    merged = (
        "platform: linux\nimage_resource:\n  type: registry-image\n"
        "  source: &src\n    repository: a\n    tag: '1'\n  extra: *src\nrun: {path: x}\n"
    )
    (finding,) = _findings(merged)
    assert (finding.rewritable, finding.note) == (False, NO_INSERT)


def test_concourse_variables_are_templated() -> None:
    text = _task(
        "  type: registry-image\n  source:\n    repository: ((registry))/app\n    tag: ((tag))\n"
    )
    (finding,) = _findings(text)
    assert finding.templated and finding.reference_text == "((registry))/app:((tag))"
    (occurrence,) = scan_text("ci/task.yml", text).occurrences
    assert occurrence.status is Status.TEMPLATED and not occurrence.rewritable


@pytest.mark.parametrize(
    "text",
    [
        # Kustomize's resources are file names
        "resources: [deploy.yaml]\nimages: [{name: nginx, newTag: '1'}]\n",
        # a Helm values file that happens to say image_resource
        "image_resource:\n  type: registry-image\n  source: {repository: a, tag: '1'}\n",
        # a GitHub workflow's jobs are a mapping
        "on: push\njobs:\n  build:\n    runs-on: ubuntu-latest\n    steps: []\n",
    ],
)
def test_other_yaml_is_not_concourse(text: str) -> None:
    (document,) = compose_documents(text)[0]
    assert not is_concourse_document(document)
    assert _findings(text) == []


def test_through_the_driver_resource_names_and_tarballs_are_not_images() -> None:
    outcome = scan_text("ci/pipeline.yml", PIPELINE)
    assert [(o.kind, o.text, o.status) for o in outcome.occurrences] == [
        ("concourse", "cfcommunity/slack-notification-resource", Status.UNPINNED),
        ("concourse", "teliaoss/github-pr-resource", Status.UNPINNED),
        ("concourse", "golang", Status.UNPINNED),
        ("concourse", "alpine", Status.PINNED),
    ]


GOLANG = "docker.io/library/golang:1.22"
ALPINE = "docker.io/library/alpine:3.20"
SLACK = "docker.io/cfcommunity/slack-notification-resource:v1.7.0"


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_pin_adds_a_version_digest_then_changes_nothing_then_bumps_in_place(newline: str) -> None:
    data = PIPELINE.replace("\n", newline).encode()
    digests = {GOLANG: NEW, ALPINE: DIGEST, SLACK: NEW}
    updated, result = pin_file("ci/pipeline.yml", data, digests)
    expected = PIPELINE.replace(
        '            tag: "1.22"\n',
        f'            tag: "1.22"\n          version:\n            digest: {NEW}\n',
    )
    assert updated == expected.replace("\n", newline).encode()
    assert [e.expected for e in result.edits] == [f"golang:1.22@{NEW}"]
    # alpine already holds its digest; the resource type cannot be pinned and says why
    assert result.unchanged == 1
    assert [(n.occurrence.text, n.kind) for n in result.notices] == [
        ("cfcommunity/slack-notification-resource", NoticeKind.NOT_REWRITABLE),
        ("teliaoss/github-pr-resource", NoticeKind.NOT_REWRITABLE),
    ]
    again, second = pin_file("ci/pipeline.yml", updated, digests)
    assert again == updated and second.edits == [] and second.unchanged == 2

    bumped, third = pin_file("ci/pipeline.yml", updated, {**digests, GOLANG: OLD, ALPINE: OLD})
    assert bumped == updated.replace(f"digest: {NEW}".encode(), f"digest: {OLD}".encode()).replace(
        f'"{DIGEST}"'.encode(), f'"{OLD}"'.encode()
    )
    assert sorted((e.action.value, e.new_digest) for e in third.edits) == [
        ("bump", OLD),
        ("bump", OLD),
    ]


def test_pin_round_trip_of_a_task_file_without_a_final_newline() -> None:
    text = "platform: linux\nrun: {path: x}\nimage_resource:\n  type: registry-image\n  source:\n    repository: alpine\n    tag: '3.20'"
    updated, result = pin_file("ci/task.yml", text.encode(), {ALPINE: NEW})
    assert updated.decode() == text + f"\n  version:\n    digest: {NEW}"
    assert len(result.edits) == 1
    assert pin_file("ci/task.yml", updated, {ALPINE: NEW})[0] == updated
