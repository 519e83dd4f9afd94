"""Fixtures for the quadlet scanner (Podman Quadlet units; the rules are in test_quadlet.py)."""

from __future__ import annotations

from tests.scanners.tables import Broken, Case, FixtureTable, Trap

PATH = "deploy/quadlet/web.container"

CASES: list[tuple[str, str, list[tuple[str, str]]]] = [
    (
        "a container unit with an image and an image mount",
        "[Unit]\nDescription=Web front end\nAfter=network-online.target\n\n"
        "[Container]\nContainerName=web\nImage=quay.io/acme/web:2.4\n"
        "Mount=type=image,source=ghcr.io/acme/assets:7,destination=/srv/assets\n"
        "PublishPort=8080:8080\nEnvironment=MODE=production\n\n"
        "[Service]\nRestart=always\n\n[Install]\nWantedBy=multi-user.target default.target\n",
        [
            ("quay.io/acme/web:2.4", "[Container] Image"),
            ("ghcr.io/acme/assets:7", "[Container] Mount type=image source"),
        ],
    ),
    (
        "quotes, spaces, comments and the last Image=",
        "# Image=commented/out:1\n[Container]\n; Image=also/commented:1\nImage=alpine:3.19\n"
        '  Image =  "docker.io/library/alpine:3.20"  \n',
        [("docker.io/library/alpine:3.20", "[Container] Image")],
    ),
    (
        "an image unit",
        "[Image]\nImage=registry.fedoraproject.org/fedora:41\nArch=aarch64\n",
        [("registry.fedoraproject.org/fedora:41", "[Image] Image")],
    ),
    (
        "a volume from an image",
        "[Volume]\nDriver=image\nImage=quay.io/acme/dataset:2025.1\n",
        [("quay.io/acme/dataset:2025.1", "[Volume] Image")],
    ),
    (
        "an artifact unit",
        "[Artifact]\nArtifact=quay.io/acme/model:3\n",
        [("quay.io/acme/model:3", "[Artifact] Artifact")],
    ),
    (
        "a drop-in overriding a container's image",
        "[Container]\nImage=ghcr.io/acme/web:2.5\n",
        [("ghcr.io/acme/web:2.5", "[Container] Image")],
    ),
]
PATHS = [PATH, PATH, "base.image", "data.volume", "model.artifact", "web.container.d/10-image.conf"]

TRAPS: list[tuple[str, str, str]] = [
    ("images named by their Quadlet unit", "web.container", "[Container]\nImage=base.image\n"),
    (
        "a build unit names only its output",
        "app.build",
        "[Build]\nImageTag=localhost/app\nFile=Containerfile\n",
    ),
    ("a volume without the image driver", "data.volume", "[Volume]\nImage=quay.io/acme/data:1\n"),
    (
        "Image= in another section",
        "web.container",
        "[Service]\nImage=alpine:3\n[Container]\nRootfs=/srv\n",
    ),
    ("a local archive", "base.image", "[Image]\nImage=oci-archive:/srv/app.tar\n"),
    ("a pod and a kube unit", "app.kube", "[Kube]\nYaml=app.yaml\n"),
    ("not a unit of its kind", "disk.image", "QFI\xfb binary-ish\n[Container]\nImage=alpine:3\n"),
]

TABLE = FixtureTable(
    kind="quadlet",
    path=PATH,
    claims=[
        "web.container",
        "db.volume",
        "base.image",
        "app.build",
        "app.pod",
        "app.kube",
        "model.artifact",
        "web.container.d/10-image.conf",
        "systemd/container.d/00-defaults.conf",
    ],
    ignores=[
        "Dockerfile.build",
        "containerfile.image",
        "web.network",
        ".container",
        "unit.service",
    ],
    cases=[
        Case(name, text, expected, path)
        for (name, text, expected), path in zip(CASES, PATHS, strict=True)
    ],
    traps=[Trap(name, text, path) for name, path, text in TRAPS],
    broken=[
        Broken("a key before any section", "Image=alpine:3\n[Container]\n", 1),
        Broken("a line that is no key, section or comment", "[Container]\nImage alpine:3\n", 2),
    ],
)
