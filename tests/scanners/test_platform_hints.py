"""What a file says about the platform an image runs on, as the scanners report it:
`FROM --platform=`, a Compose service's `platform:`, a Pod's architecture node selector or
required node affinity."""

from __future__ import annotations

import textwrap

import pytest

from pinbot.scanners import scan_bytes


def platforms(path: str, text: str) -> list[tuple[str, str | None]]:
    occurrences = scan_bytes(path, textwrap.dedent(text).lstrip("\n").encode()).occurrences
    return [(o.text, o.platform) for o in occurrences]


def test_dockerfile_from_platform_flag_as_written() -> None:
    assert platforms(
        "Dockerfile",
        """
        FROM --platform=linux/arm64 alpine:3.20 AS a
        FROM --platform="linux/amd64" alpine:3.20
        FROM --platform=$BUILDPLATFORM golang:1.22 AS build
        FROM debian:12
        """,
    ) == [
        ("alpine:3.20", "linux/arm64"),
        ("alpine:3.20", "linux/amd64"),
        ("golang:1.22", "$BUILDPLATFORM"),
        ("debian:12", None),
    ]


def test_a_compose_services_platform_is_the_hint_unless_its_image_is_shared() -> None:
    assert platforms(
        "compose.yaml",
        """
        x-base: &base
          image: redis:7
        services:
          a:
            image: nginx:1
            platform: linux/arm64
          b:
            image: postgres:16
          c:
            <<: *base
            platform: linux/arm64
          d:
            <<: *base
            platform: linux/amd64
        """,
    ) == [("redis:7", None), ("nginx:1", "linux/arm64"), ("postgres:16", None)]


@pytest.mark.parametrize(
    ("scheduling", "expected"),
    [
        ("nodeSelector:\n  kubernetes.io/arch: arm64\n", "linux/arm64"),
        ("nodeSelector:\n  kubernetes.io/os: windows\n  kubernetes.io/arch: amd64\n", "windows/amd64"),
        ("nodeSelector:\n  beta.kubernetes.io/arch: arm\n", "linux/arm"),
        ("nodeSelector:\n  disktype: ssd\n", None),
        (
            "affinity:\n  nodeAffinity:\n    requiredDuringSchedulingIgnoredDuringExecution:\n"
            "      nodeSelectorTerms:\n        - matchExpressions:\n"
            "            - {key: kubernetes.io/arch, operator: In, values: [arm64]}\n",
            "linux/arm64",
        ),
        (  # two architectures allowed: nothing says which one
            "affinity:\n  nodeAffinity:\n    requiredDuringSchedulingIgnoredDuringExecution:\n"
            "      nodeSelectorTerms:\n        - matchExpressions:\n"
            "            - {key: kubernetes.io/arch, operator: In, values: [arm64, amd64]}\n",
            None,
        ),
        (
            "affinity:\n  nodeAffinity:\n    requiredDuringSchedulingIgnoredDuringExecution:\n"
            "      nodeSelectorTerms:\n        - matchExpressions:\n"
            "            - {key: kubernetes.io/arch, operator: NotIn, values: [arm64]}\n",
            None,
        ),
        ("", None),
    ],
)
def test_pod_architecture_from_node_selector_or_affinity(scheduling: str, expected: str | None) -> None:
    spec = textwrap.indent(scheduling, "      ")
    text = (
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec:\n  template:\n    spec:\n"
        f"{spec}"
        "      initContainers:\n        - {name: i, image: 'busybox:1'}\n"
        "      containers:\n        - name: c\n          image: nginx:1\n"
    )
    assert platforms("deploy.yaml", text) == [("busybox:1", expected), ("nginx:1", expected)]
