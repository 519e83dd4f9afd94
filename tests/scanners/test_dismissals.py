"""What build tools' scanners pass over is an output of the build, and they say so.

Each case names an image the file's tool makes or pushes, not one it pulls: Skaffold's
`build.artifacts[].image`, `test[].image` and `deploy.docker.images` (skaffold.dev config
reference: the image the artifact builds), Jenkins' `docker.build('name')` and an image that
is `.push()`ed or `.tag()`ged (Docker Pipeline plugin), Earthly's `SAVE IMAGE` names and
`FROM +target` (Earthfile reference: a target of this or another Earthfile).
"""

from __future__ import annotations

import pytest

from pinbot.scanners._registry import scanner_of_kind
from pinbot.scanners.interface import ExplainingScanner

SKAFFOLD = """\
apiVersion: skaffold/v4beta11
kind: Config
build:
  artifacts:
  - image: ghcr.io/acme/app
    kaniko: {image: gcr.io/kaniko-project/executor:v1.23.0}
test:
- image: ghcr.io/acme/app
  structureTests: [./test/*]
deploy:
  docker:
    images: [ghcr.io/acme/app]
profiles:
- name: ci
  build:
    artifacts:
    - image: ghcr.io/acme/ci-app
"""

JENKINSFILE = """\
node {
  def app = docker.build('acme/app:${env.BUILD_ID}')
  docker.image('acme/app:latest').push()
  docker.image("maven:3.9").inside { sh 'mvn -v' }
}
"""

EARTHFILE = """\
VERSION 0.8
FROM golang:1.22
build:
    FROM +deps
    SAVE IMAGE --push ghcr.io/acme/app:latest ghcr.io/acme/app:1.0
"""

CASES = [
    (
        "skaffold",
        "skaffold.yaml",
        SKAFFOLD,
        [
            ("ghcr.io/acme/app", "build.artifacts[0].image"),
            ("ghcr.io/acme/app", "test[0].image"),
            ("ghcr.io/acme/app", "deploy.docker.images[0]"),
            ("ghcr.io/acme/ci-app", "profiles[0].build.artifacts[0].image"),
        ],
    ),
    (
        "jenkinsfile",
        "Jenkinsfile",
        JENKINSFILE,
        [("acme/app:${env.BUILD_ID}", "docker.build"), ("acme/app:latest", "docker.image")],
    ),
    (
        "earthfile",
        "Earthfile",
        EARTHFILE,
        [
            ("+deps", "FROM"),
            ("ghcr.io/acme/app:latest", "SAVE IMAGE"),
            ("ghcr.io/acme/app:1.0", "SAVE IMAGE"),
        ],
    ),
]


@pytest.mark.parametrize(("kind", "path", "text", "expected"), CASES, ids=[c[0] for c in CASES])
def test_outputs_are_dismissed_with_a_reason(
    kind: str, path: str, text: str, expected: list[tuple[str, str]]
) -> None:
    scanner = scanner_of_kind(kind)
    assert isinstance(scanner, ExplainingScanner)
    dismissals = list(scanner.dismissals(path, text))
    assert [(text[d.start : d.end], d.context) for d in dismissals] == expected
    assert all(d.reason for d in dismissals)
    reported = {(f.start, f.end) for f in scanner.scan(path, text)}
    assert not reported & {(d.start, d.end) for d in dismissals}
