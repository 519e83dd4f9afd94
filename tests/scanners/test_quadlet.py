"""Podman Quadlet units: which values are images, read as Podman's own parser reads the file.

Evidence, in our words:
- podman-systemd.unit(5) (containers/podman docs/source/markdown/podman-systemd.unit.5.md):
  `Image=` in [Container] is the image to run, in the format `podman pull` takes; a name
  ending in `.image` or `.build` names another Quadlet unit. [Volume] `Image=` counts with
  `Driver=image`. [Image] `Image=` is what is pulled (a transport such as `docker-archive:`
  may precede it) and its `ImageTag=` the name an archive's image goes by. [Build] `ImageTag=`
  names the image the build makes. `Mount=type=image,source=…` mounts an image; a source
  ending in `.image` names a unit. [Artifact] `Artifact=` is an OCI artifact to pull.
- pkg/systemd/parser/unitfile.go (`Parse`, `Lookup`): lines are trimmed; empty lines and lines
  starting with `#` or `;` are comments, also inside a continuation; a trailing `\\` joins the
  next line, trimmed, with nothing between; the key ends at the first `=`, the value starts
  after the whitespace that follows it; `Lookup` takes the last line with the key, trims its
  end and drops one pair of surrounding double quotes (single quotes stay). A line that is no
  group, key or comment, or a key before any group, is an error.
- pkg/systemd/quadlet/quadlet.go: `.image`/`.build` values go through `handleImageSource` (in
  a container and a volume, not in a `.image` unit's own `Image=`); the volume's image only
  under `driver == "image"`.
- go.podman.io/image docker_transport.go refuses `docker://name:tag@digest`, and
  libartifact's `stringToNamed` refuses a tag with a digest: those are reported, not pinned.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from pinbot.cli import build_parser
from pinbot.commands.audit import execute
from pinbot.config import load_config
from pinbot.forge.github import Credentials
from pinbot.scanners import Status, scan_text
from pinbot.scanners.interface import ScanError
from pinbot.scanners.quadlet import SCANNER, unit_group
from tests.support.github_fake import GitHubFake
from tests.support.roundtrip import pin_file

ROOT = Path(__file__).resolve().parents[2]

DIGEST = "sha256:" + "d" * 64


def reported(path: str, text: str) -> list[tuple[str, str, str, bool]]:
    """(text at the span, context, status, rewritable) of each reference."""
    outcome = scan_text(path, text, scanners=[SCANNER])
    assert outcome.errors == []
    for finding in SCANNER.scan(path, text):
        if finding.reference_text is None:
            # A reference pinned at its span: the span holds exactly the value Podman reads.
            assert text[finding.start : finding.end].strip() == text[finding.start : finding.end]
    return [(o.text, o.context, o.status.value, o.rewritable) for o in outcome.occurrences]


def dismissed(path: str, text: str) -> list[tuple[str, str]]:
    return [(text[d.start : d.end], d.context) for d in SCANNER.dismissals(path, text)]


CONTAINER = "[Container]\nImage=quay.io/fedora/fedora:41\n"

# (case, path, unit, reported, dismissed)
CASES: list[tuple[str, str, str, list[tuple[str, str, str, bool]], list[tuple[str, str]]]] = [
    (
        "a container's image",
        "web.container",
        "[Unit]\nDescription=web\n\n[Container]\nImage=quay.io/fedora/fedora:41\n"
        "PublishPort=8080:80\n\n[Install]\nWantedBy=default.target\n",
        [("quay.io/fedora/fedora:41", "[Container] Image", "unpinned", True)],
        [],
    ),
    (
        "spaces around '=' and at the ends of the line; CRLF",
        "web.container",
        "[Container]\r\n  Image =   docker.io/library/nginx:1.27   \r\n",
        [("docker.io/library/nginx:1.27", "[Container] Image", "unpinned", True)],
        [],
    ),
    (
        "double quotes are removed by Lookup",
        "web.container",
        '[Container]\nImage="ghcr.io/acme/web:2.0"\n',
        [("ghcr.io/acme/web:2.0", "[Container] Image", "unpinned", True)],
        [],
    ),
    (
        "single quotes stay part of the value: not a valid reference",
        "web.container",
        "[Container]\nImage='ghcr.io/acme/web:2.0'\n",
        [("'ghcr.io/acme/web:2.0'", "[Container] Image", "invalid", False)],
        [],
    ),
    (
        "no comment at the end of a line: it is part of the value",
        "web.container",
        "[Container]\nImage=nginx:1.27 # the web server\n",
        [("nginx:1.27 # the web server", "[Container] Image", "invalid", False)],
        [],
    ),
    (
        "comments start with # or ; and are not read",
        "web.container",
        "# Image=old:1\n[Container]\n; Image=older:1\n  # Image=oldest:1\nImage=alpine:3.20\n",
        [("alpine:3.20", "[Container] Image", "unpinned", True)],
        [],
    ),
    (
        "a continuation is joined trimmed, and a comment inside it is dropped",
        "web.container",
        "[Container]\nImage=quay.io/fedora/\\\n# a note\n    fedora:41\nExec=sleep 1\n",
        [("quay.io/fedora/\\\n# a note\n    fedora:41", "[Container] Image", "unpinned", False)],
        [],
    ),
    (
        "the last Image= is the one Podman reads",
        "web.container",
        "[Container]\nImage=alpine:3.19\nImage=alpine:3.20\n",
        [("alpine:3.20", "[Container] Image", "unpinned", True)],
        [("alpine:3.19", "[Container] Image")],
    ),
    (
        "a section seen twice is one section",
        "web.container",
        "[Container]\nImage=alpine:3.19\n[Service]\nRestart=always\n[Container]\nImage=alpine:3.20\n",
        [("alpine:3.20", "[Container] Image", "unpinned", True)],
        [("alpine:3.19", "[Container] Image")],
    ),
    (
        "Image= in another section is not read; keys are case-sensitive",
        "web.container",
        "[Service]\nImage=busybox:1\n[Container]\nimage=busybox:2\nImage=busybox:3\n",
        [("busybox:3", "[Container] Image", "unpinned", True)],
        [("busybox:1", "[Service] Image")],
    ),
    (
        "a .image or .build unit named as the image",
        "web.container",
        "[Container]\nImage=base.image\n",
        [],
        [("base.image", "[Container] Image")],
    ),
    (
        "a systemd specifier is filled in by systemd",
        "web@.container",
        "[Container]\nImage=ghcr.io/acme/worker:%i\n",
        [("ghcr.io/acme/worker:%i", "[Container] Image", "templated", False)],
        [],
    ),
    (
        "image mounts; a source naming a unit; other mounts",
        "web.container",
        "[Container]\nImage=alpine:3.20\n"
        "Mount=type=image,source=quay.io/acme/models:1,destination=/models\n"
        "Mount=type=bind,source=/srv,destination=/srv type=image,src=tools.image,dst=/t\n",
        [
            ("alpine:3.20", "[Container] Image", "unpinned", True),
            ("quay.io/acme/models:1", "[Container] Mount type=image source", "unpinned", True),
        ],
        [("tools.image", "[Container] Mount type=image source")],
    ),
    (
        "an empty Mount= clears the mounts before it",
        "web.container",
        "[Container]\nImage=alpine:3.20\nMount=type=image,source=quay.io/acme/a:1,dst=/a\nMount=\n",
        [("alpine:3.20", "[Container] Image", "unpinned", True)],
        [],
    ),
    (
        "an image unit pulls its Image=; ImageTag is only a name",
        "base.image",
        "[Image]\nImage=registry.fedoraproject.org/fedora:41\nImageTag=localhost/fedora\n",
        [("registry.fedoraproject.org/fedora:41", "[Image] Image", "unpinned", True)],
        [("localhost/fedora", "[Image] ImageTag")],
    ),
    (
        "docker:// cannot carry a tag and a digest: reported, not pinned",
        "base.image",
        "[Image]\nImage=docker://quay.io/podman/stable:v5\n",
        [("quay.io/podman/stable:v5", "[Image] Image", "unpinned", False)],
        [],
    ),
    (
        "a local archive is not a registry reference",
        "base.image",
        "[Image]\nImage=docker-archive:/tmp/archive.tar\nImageTag=quay.io/podman/stable:latest\n",
        [],
        [
            ("docker-archive:/tmp/archive.tar", "[Image] Image"),
            ("quay.io/podman/stable:latest", "[Image] ImageTag"),
        ],
    ),
    (
        "AllTags pulls every tag: no digest can be pinned",
        "base.image",
        "[Image]\nImage=quay.io/acme/tools\nAllTags=yes\n",
        [("quay.io/acme/tools", "[Image] Image", "unpinned", False)],
        [],
    ),
    (
        "a volume's image counts with Driver=image",
        "data.volume",
        "[Volume]\nDriver=image\nImage=quay.io/acme/data:3\n",
        [("quay.io/acme/data:3", "[Volume] Image", "unpinned", True)],
        [],
    ),
    (
        "without Driver=image the volume's Image= is not read",
        "data.volume",
        "[Volume]\nImage=quay.io/acme/data:3\n",
        [],
        [("quay.io/acme/data:3", "[Volume] Image")],
    ),
    (
        "a build unit's ImageTag is its output",
        "app.build",
        "[Build]\nImageTag=localhost/app:latest\nFile=Containerfile\nSetWorkingDirectory=unit\n",
        [],
        [("localhost/app:latest", "[Build] ImageTag")],
    ),
    (
        "pod and kube units name no image themselves",
        "app.kube",
        "[Kube]\nYaml=app.yaml\n",
        [],
        [],
    ),
    (
        "an artifact: reported, not pinned (Podman refuses a tag with a digest)",
        "model.artifact",
        "[Artifact]\nArtifact=quay.io/acme/model:1\n",
        [("quay.io/acme/model:1", "[Artifact] Artifact", "unpinned", False)],
        [],
    ),
    (
        "a drop-in of a container unit",
        "web.container.d/10-image.conf",
        CONTAINER,
        [("quay.io/fedora/fedora:41", "[Container] Image", "unpinned", True)],
        [],
    ),
    (
        "a file of the name without the unit's section is not a Quadlet unit",
        "disk.image",
        "this is not a unit file\n[Container]\nImage=alpine:3\n",
        [],
        [],
    ),
]


@pytest.mark.parametrize(
    ("path", "text", "expected", "why_not"),
    [pytest.param(path, text, found, why, id=case) for case, path, text, found, why in CASES],
)
def test_quadlet_units_are_read_as_podman_reads_them(
    path: str,
    text: str,
    expected: list[tuple[str, str, str, bool]],
    why_not: list[tuple[str, str]],
) -> None:
    assert reported(path, text) == expected
    assert dismissed(path, text) == why_not


@pytest.mark.parametrize(
    ("path", "group"),
    [
        ("web.container", "Container"),
        ("deploy/quadlet/db.volume", "Volume"),
        ("base.image", "Image"),
        ("app.build", "Build"),
        ("app.pod", "Pod"),
        ("app.kube", "Kube"),
        ("model.artifact", "Artifact"),
        ("web.container.d/10-image.conf", "Container"),
        ("systemd/container.d/00-defaults.conf", "Container"),
        ("Dockerfile.build", None),
        ("web.network", None),
        (".container", None),
        ("web.container.d/readme.md", None),
    ],
)
def test_which_files_are_quadlet_units(path: str, group: str | None) -> None:
    assert unit_group(path) == group
    assert SCANNER.matches(path) is (group is not None)


@pytest.mark.parametrize(
    ("text", "line", "reason"),
    [
        pytest.param(
            "Image=alpine:3\n[Container]\n",
            1,
            "key file does not start with a group",
            id="key first",
        ),
        pytest.param(
            "[Container]\nImage alpine:3\n",
            2,
            "line 2 is not a key-value pair, group, or comment",
            id="no equals sign",
        ),
        pytest.param(
            "\ufeff[Container]\nImage=alpine:3\n",
            1,
            "line 1 is not a key-value pair, group, or comment",
            id="byte-order mark",
        ),
        pytest.param("[]\n[Container]\n", 1, "invalid group name: ", id="empty group name"),
    ],
)
def test_a_unit_podman_rejects_is_reported(text: str, line: int, reason: str) -> None:
    with pytest.raises(ScanError) as raised:
        list(SCANNER.scan("web.container", text))
    assert raised.value.line == line
    assert raised.value.message == f"Podman rejects this unit: {reason}"


def test_an_overridden_image_line_and_a_build_unit_are_dismissed_with_the_reason() -> None:
    text = "[Container]\nImage=alpine:3.19\nImage=app.build\n"
    reasons = [d.reason for d in SCANNER.dismissals("web.container", text)]
    assert reasons == [
        "overridden by the Image= on line 3: Podman reads the last one",
        "names the Quadlet unit app.build: the image is the one that unit builds",
    ]


def test_pinning_changes_only_the_image_bytes() -> None:
    # CRLF line ends, a non-ASCII description, an indented key, a continuation elsewhere.
    text = (
        "[Unit]\r\nDescription=Café front end\r\n\r\n[Container]\r\n"
        "  Image = quay.io/acme/web:2.4\r\nExec=/bin/web \\\r\n  --port 8080\r\n"
        "Mount=type=image,src=ghcr.io/acme/assets:7,dst=/a\r\n"
    )
    digests = {"quay.io/acme/web:2.4": DIGEST, "ghcr.io/acme/assets:7": DIGEST}
    updated, result = pin_file("web.container", text.encode(), digests)
    assert updated.decode() == text.replace("web:2.4", f"web:2.4@{DIGEST}").replace(
        "assets:7", f"assets:7@{DIGEST}"
    )
    assert len(result.edits) == 2
    assert pin_file("web.container", updated, digests)[0] == updated


def test_an_ignore_comment_keeps_the_image_as_it_is() -> None:
    text = (
        "[Container]\n# pinbot: ignore (tracks the nightly build)\nImage=ghcr.io/acme/web:nightly\n"
    )
    [occurrence] = scan_text("web.container", text).occurrences
    assert (occurrence.status, occurrence.rewritable) == (Status.IGNORED, False)
    digests = {"ghcr.io/acme/web:nightly": DIGEST}
    assert pin_file("web.container", text.encode(), digests)[0] == text.encode()


@pytest.mark.slow
def test_scan_and_check_report_quadlet_units(tmp_path: Path) -> None:
    unit = tmp_path / "quadlet" / "web.container"
    unit.parent.mkdir()
    unit.write_text("[Container]\nImage=quay.io/acme/web:2.4\n", encoding="utf-8")
    environment = {**os.environ, "PYTHONPATH": str(ROOT)}
    scanned = subprocess.run(
        [sys.executable, "-m", "pinbot", "scan", str(tmp_path), "--format", "json"],
        capture_output=True, text=True, env=environment, check=False,
    )  # fmt: skip
    assert scanned.returncode == 0, scanned.stderr
    [reported] = json.loads(scanned.stdout)
    assert (reported["file"], reported["kind"], reported["text"], reported["status"]) == (
        "quadlet/web.container",
        "quadlet",
        "quay.io/acme/web:2.4",
        "unpinned",
    )
    checked = subprocess.run(
        [sys.executable, "-m", "pinbot", "check", str(tmp_path)],
        capture_output=True, text=True, env=environment, check=False,
    )  # fmt: skip
    assert checked.returncode == 1
    assert "quadlet/web.container:2:7" in checked.stdout


@pytest.mark.integration  # starts its server in the test
def test_audit_reads_quadlet_units_from_a_repository() -> None:
    with GitHubFake() as fake:
        fake.create_org("acme")
        files = {"deploy/web.container": b"[Container]\nImage=quay.io/acme/web:2.4\n"}
        fake.create_repo("acme", "edge", files)
        args = build_parser().parse_args(["audit", "--org", "acme"])
        config = load_config(None)
        report = execute(args, config, Credentials(token=fake.token, api_url=fake.url))
    [repository] = report.repositories
    assert [(o.file, o.kind, o.text, o.status) for o in repository.occurrences] == [
        ("deploy/web.container", "quadlet", "quay.io/acme/web:2.4", Status.UNPINNED)
    ]
