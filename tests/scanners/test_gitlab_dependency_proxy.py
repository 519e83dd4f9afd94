"""Images pulled through GitLab's Dependency Proxy are the Docker Hub images behind the prefix.

Evidence:
- GitLab's predefined CI/CD variables: `CI_DEPENDENCY_PROXY_GROUP_IMAGE_PREFIX` is the top-level
  group's prefix for pulling images through the Dependency Proxy, and
  `CI_DEPENDENCY_PROXY_DIRECT_GROUP_IMAGE_PREFIX` the direct group's; both are
  `host:port/<group path>/dependency_proxy/containers` (merge requests 49133 and 79570 added
  them and the port). The runner expands them in `image:` and `services:`.
- The proxy itself (gitlab-org/gitlab app/models/dependency_proxy/registry.rb): the image path
  after `dependency_proxy/containers/` is requested from registry-1.docker.io, with `library/`
  put before a path without `/`; the manifest is stored and served with its own bytes and
  content type, and pull by digest works since merge request 52805 (GitLab 13.9). So
  `${PREFIX}/nginx:1.27@sha256:X` is the Docker Hub manifest X of `docker.io/library/nginx`.
"""

from __future__ import annotations

import pytest

from pinbot.reference import parse_normalized
from pinbot.scanners import Status, scan_files, scan_text
from tests.support.roundtrip import pin_file

DIGEST = "sha256:" + "1" * 64
OLD = "sha256:" + "2" * 64

# (case, .gitlab-ci.yml, [(text at the span, context, canonical reference, status)])
CASES: list[tuple[str, str, list[tuple[str, str, str | None, str]]]] = [
    (
        "braces, a job image",
        "build:\n  image: ${CI_DEPENDENCY_PROXY_GROUP_IMAGE_PREFIX}/nginx:1.27\n  script: [make]\n",
        [
            (
                "nginx:1.27",
                "build.image (Docker Hub through $CI_DEPENDENCY_PROXY_GROUP_IMAGE_PREFIX)",
                "docker.io/library/nginx:1.27",
                "unpinned",
            )
        ],
    ),
    (
        "no braces, the direct group prefix, a namespaced image in services",
        "test:\n  image: $CI_DEPENDENCY_PROXY_DIRECT_GROUP_IMAGE_PREFIX/python:3.12-slim\n"
        "  services:\n    - name: $CI_DEPENDENCY_PROXY_GROUP_IMAGE_PREFIX/bitnami/redis:7.2\n"
        "      alias: redis\n  script: [pytest]\n",
        [
            (
                "python:3.12-slim",
                "test.image (Docker Hub through $CI_DEPENDENCY_PROXY_DIRECT_GROUP_IMAGE_PREFIX)",
                "docker.io/library/python:3.12-slim",
                "unpinned",
            ),
            (
                "bitnami/redis:7.2",
                "test.services[0].name (Docker Hub through $CI_DEPENDENCY_PROXY_GROUP_IMAGE_PREFIX)",
                "docker.io/bitnami/redis:7.2",
                "unpinned",
            ),
        ],
    ),
    (
        "a variable holding the proxied image, and one already pinned",
        "variables:\n  NODE_IMAGE: ${CI_DEPENDENCY_PROXY_GROUP_IMAGE_PREFIX}/node:20\n"
        f"default:\n  image: '${{CI_DEPENDENCY_PROXY_GROUP_IMAGE_PREFIX}}/alpine:3.20@{OLD}'\n"
        "lint:\n  image: $NODE_IMAGE\n  script: [npm run lint]\n",
        [
            (
                "node:20",
                "variables.NODE_IMAGE (Docker Hub through $CI_DEPENDENCY_PROXY_GROUP_IMAGE_PREFIX)",
                "docker.io/library/node:20",
                "unpinned",
            ),
            (
                f"alpine:3.20@{OLD}",
                "default.image (Docker Hub through $CI_DEPENDENCY_PROXY_GROUP_IMAGE_PREFIX)",
                f"docker.io/library/alpine:3.20@{OLD}",
                "pinned",
            ),
            ("$NODE_IMAGE", "lint.image", None, "templated"),
        ],
    ),
    (
        "a templated tag behind the prefix stays templated, whole",
        "build:\n  image: ${CI_DEPENDENCY_PROXY_GROUP_IMAGE_PREFIX}/node:${NODE_VERSION}\n"
        "  script: [make]\n",
        [
            (
                "${CI_DEPENDENCY_PROXY_GROUP_IMAGE_PREFIX}/node:${NODE_VERSION}",
                "build.image",
                None,
                "templated",
            )
        ],
    ),
    (
        "a registry behind the prefix is not a Docker Hub path: templated, whole",
        "build:\n  image: ${CI_DEPENDENCY_PROXY_GROUP_IMAGE_PREFIX}/ghcr.io/acme/app:1\n"
        "  script: [make]\n",
        [
            (
                "${CI_DEPENDENCY_PROXY_GROUP_IMAGE_PREFIX}/ghcr.io/acme/app:1",
                "build.image",
                None,
                "templated",
            )
        ],
    ),
    (
        "another variable as a prefix is not the proxy",
        "build:\n  image: ${CI_REGISTRY_IMAGE}/builder:1\n  script: [make]\n",
        [("${CI_REGISTRY_IMAGE}/builder:1", "build.image", None, "templated")],
    ),
]


@pytest.mark.parametrize(
    ("text", "expected"), [pytest.param(text, found, id=case) for case, text, found in CASES]
)
def test_proxied_images_are_the_docker_hub_images_behind_the_prefix(
    text: str, expected: list[tuple[str, str, str | None, str]]
) -> None:
    outcome = scan_text(".gitlab-ci.yml", text)
    assert outcome.errors == []
    assert [
        (o.text, o.context, None if o.reference is None else str(o.reference), o.status.value)
        for o in outcome.occurrences
    ] == expected


# GitLab's documented shape of the prefixes' values; the group path is this test's.
GITLAB_VALUES = {
    "CI_DEPENDENCY_PROXY_GROUP_IMAGE_PREFIX": "gitlab.example.com:443/acme/dependency_proxy/containers",
    "CI_DEPENDENCY_PROXY_DIRECT_GROUP_IMAGE_PREFIX": (
        "gitlab.example.com:443/acme/web/dependency_proxy/containers"
    ),
}


def expand(value: str) -> str:
    """What the runner pulls: the predefined variables replaced by their values."""
    for name, prefix in GITLAB_VALUES.items():
        value = value.replace("${" + name + "}", prefix).replace("$" + name, prefix)
    return value


def docker_hub_request(pulled: str) -> tuple[str, str]:
    """(Docker Hub repository, manifest reference) the proxy requests for a pulled reference."""
    reference = parse_normalized(pulled)
    path = reference.path.split("/dependency_proxy/containers/", 1)[1]
    repository = path if "/" in path else f"library/{path}"
    # A reference with a digest is pulled by digest; the tag is then not sent.
    return repository, reference.digest or reference.tag or "latest"


def test_the_pinned_text_is_what_gitlab_pulls() -> None:
    text = (
        "build:\n  image: ${CI_DEPENDENCY_PROXY_GROUP_IMAGE_PREFIX}/nginx:1.27\n"
        "  services:\n    - $CI_DEPENDENCY_PROXY_DIRECT_GROUP_IMAGE_PREFIX/bitnami/redis:7.2\n"
        "  script: [make]\n"
    )
    digests = {"docker.io/library/nginx:1.27": DIGEST, "docker.io/bitnami/redis:7.2": OLD}
    updated, result = pin_file(".gitlab-ci.yml", text.encode(), digests)
    written = updated.decode()
    assert written == text.replace("nginx:1.27", f"nginx:1.27@{DIGEST}").replace(
        "redis:7.2", f"redis:7.2@{OLD}"
    )
    assert len(result.edits) == 2
    images = [o.text for o in scan_text(".gitlab-ci.yml", written).occurrences]
    pulled = [expand(line.split(": ", 1)[-1].lstrip("- ")) for line in written.splitlines()[1:4:2]]
    assert pulled == [
        f"gitlab.example.com:443/acme/dependency_proxy/containers/nginx:1.27@{DIGEST}",
        f"gitlab.example.com:443/acme/web/dependency_proxy/containers/bitnami/redis:7.2@{OLD}",
    ]
    # The proxy fetches from Docker Hub the very repository and digest pinbot resolved.
    assert [docker_hub_request(reference) for reference in pulled] == [
        ("library/nginx", DIGEST),
        ("bitnami/redis", OLD),
    ]
    assert images == [f"nginx:1.27@{DIGEST}", f"bitnami/redis:7.2@{OLD}"]
    assert pin_file(".gitlab-ci.yml", updated, digests)[0] == updated


def test_a_proxied_image_keeps_its_status_rules() -> None:
    text = "build:\n  # pinbot: ignore\n  image: ${CI_DEPENDENCY_PROXY_GROUP_IMAGE_PREFIX}/nginx\n"
    [occurrence] = scan_text(".gitlab-ci.yml", text).occurrences
    assert occurrence.status is Status.IGNORED


def test_a_proxied_image_in_a_variable_of_an_included_file() -> None:
    files = {
        ".gitlab-ci.yml": b"include: [.gitlab/vars.yml]\nbuild:\n  image: ${BUILD_IMAGE}\n  script: [make]\n",
        ".gitlab/vars.yml": b"variables:\n  BUILD_IMAGE: $CI_DEPENDENCY_PROXY_GROUP_IMAGE_PREFIX/golang:1.22\n",
    }
    [occurrence] = scan_files(files)[".gitlab/vars.yml"].occurrences
    assert (occurrence.text, str(occurrence.reference), occurrence.rewritable) == (
        "golang:1.22",
        "docker.io/library/golang:1.22",
        True,
    )
