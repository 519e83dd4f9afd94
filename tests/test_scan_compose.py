"""The Compose scanner: service images, anchors and merge keys, interpolation, and traps."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pinbot.scanners import ScanError, Status, scan_text
from pinbot.scanners.compose import BUILT_HERE, SCANNER, is_compose_name
from tests.support.corpus import scan_corpus_file

BASIC = """\
name: shop
services:
  web:
    image: "nginx:1.27"   # front
    container_name: web-image
    platform: linux/amd64
  api:
    build:
      context: .
      tags: ["acme/api:dev"]
      cache_from: ["acme/api:cache"]
    image: acme/api:${TAG:-latest}
  db:
    image: 'postgres:16@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef'
  worker:
    extends:
      service: api
  broken: null
  listy: [a, b]
volumes:
  data: {}
"""

ANCHORS = """\
x-defaults: &defaults
  image: wurstmeister/kafka
  restart: always
x-env: &env
  A: "1"
services:
  kafka-1:
    <<: *defaults
    environment:
      <<: *env
  kafka-2:
    <<: *defaults
  zookeeper:
    image: zookeeper:3.9
  override:
    <<: *defaults
    image: bitnami/kafka:3.7
"""

CASES: dict[str, tuple[str, str, list[tuple[str, str]]]] = {
    "services": (
        "compose.yaml",
        BASIC,
        [
            ("nginx:1.27", "services.web.image"),
            ("acme/api:${TAG:-latest}", "services.api.image"),
            (
                "postgres:16@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
                "services.db.image",
            ),
        ],
    ),
    "anchor reported once where written": (
        "docker-compose.test.yml",
        ANCHORS,
        [
            ("wurstmeister/kafka", "x-defaults.image"),
            ("zookeeper:3.9", "services.zookeeper.image"),
            ("bitnami/kafka:3.7", "services.override.image"),
        ],
    ),
    "detected by content": (
        "db.restore.yml",
        "services:\n  db:\n    image: postgres:16\n",
        [
            ("postgres:16", "services.db.image"),
        ],
    ),
    # GitLab CI and Drone write `services` as a list; a Kubernetes object is not Compose;
    # a services mapping without images (build only) gives nothing.
    "traps": (
        "ci.yml",
        "services: [docker:dind]\nimage: ruby:3\n---\napiVersion: v1\nkind: Service\nservices:\n"
        "  a: {image: x}\n---\nservices:\n  app:\n    build: .\n---\n42\n---\n",
        [],
    ),
}


@pytest.mark.parametrize("name", CASES)
def test_findings(name: str) -> None:
    path, text, expected = CASES[name]
    findings = sorted(SCANNER.scan(path, text), key=lambda f: f.start)
    assert [(text[f.start : f.end], f.context) for f in findings] == expected


def test_interpolation_is_templated() -> None:
    outcome = scan_text("compose.yaml", BASIC, scanners=[SCANNER])
    status = {o.text: o.status for o in outcome.occurrences}
    assert status == {
        "nginx:1.27": Status.UNPINNED,
        "acme/api:${TAG:-latest}": Status.TEMPLATED,
        "postgres:16@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef": Status.PINNED,
    }


BUILT = """\
x-app: &app
  image: acme/app:1.0
services:
  etl:
    image: etl-kafka
    build:
      context: etl
  web:
    image: nginx:1.27
    build: .
  pulled:
    image: postgres:16
    build: null
  app:
    <<: *app
  app-dev:
    <<: *app
    build: .
  dev:
    image: acme/dev:${TAG:-latest}
    build: .
"""


def test_build_output_is_reported_not_rewritten() -> None:
    findings = {BUILT[f.start : f.end]: f for f in SCANNER.scan("compose.yaml", BUILT)}
    assert {text: (f.rewritable, f.note) for text, f in findings.items()} == {
        "etl-kafka": (False, BUILT_HERE),
        "nginx:1.27": (False, BUILT_HERE),
        "postgres:16": (True, None),  # `build: null` builds nothing
        # One anchor for a pulled and a built service: pinning it would tag the build.
        "acme/app:1.0": (False, BUILT_HERE),
        # Templated already: the driver marks it, the note stays free for that.
        "acme/dev:${TAG:-latest}": (True, None),
    }
    outcome = scan_text("compose.yaml", BUILT, scanners=[SCANNER])
    assert {o.text: o.status for o in outcome.occurrences}["etl-kafka"] is Status.UNPINNED
    assert [o.text for o in outcome.occurrences if o.rewritable] == ["postgres:16"]


def test_compose_names() -> None:
    for name in (
        "compose.yaml",
        "compose.yml",
        "compose.prod.yaml",
        "docker-compose.yml",
        "a/b/docker-compose-dev.yaml",
        "docker-compose.override.yml",
    ):
        assert is_compose_name(name), name
    for name in ("values.yaml", "compose.json", "mycompose.yaml", "docker-compose/db.yml"):
        assert not is_compose_name(name), name


def test_broken_compose_file_raises_other_yaml_is_left_alone() -> None:
    broken = "services:\n  web:\n    image: [nginx\n"
    with pytest.raises(ScanError):
        list(SCANNER.scan("compose.yaml", broken))
    assert list(SCANNER.scan("notes.yaml", broken)) == []


@given(
    quote=st.sampled_from(["", '"', "'"]),
    indent=st.integers(min_value=1, max_value=5),
    comment=st.booleans(),
    newline=st.sampled_from(["\n", "\r\n"]),
    image=st.from_regex(r"[a-z][a-z0-9]{0,6}(/[a-z0-9]{1,6})?(:[a-z0-9.]{1,6})?", fullmatch=True),
)
def test_span_holds_the_reference(
    quote: str, indent: int, comment: bool, newline: str, image: str
) -> None:
    pad = " " * indent
    text = newline.join(
        [
            "# top",
            "services:",
            f"{pad}app:",
            f"{pad}{pad}image: {quote}{image}{quote}" + (" # c" if comment else ""),
        ]
    )
    (finding,) = SCANNER.scan("compose.yml", text)
    assert text[finding.start : finding.end] == image
    assert finding.context == "services.app.image"


# Counted by reading each file (the number of `image:` lines under services).
CORPUS = {
    # one image in the `x-kafka-defaults` anchor merged into two brokers, zookeeper,
    # kafkatest and kafkacattest.
    "wurstmeister__kafka-docker/test/docker-compose.yml": 4,
    # dspace (templated), dspacedb (templated tag), dspacesolr (templated).
    "4Science__DSpace/docker-compose.yml": 3,
    # twelve database services, all plain.
    "typeorm__typeorm/docker-compose.yml": 12,
    # the only image line is commented out.
    "open-telemetry__opentelemetry-demo/compose.extras.yaml": 0,
    # build-only services.
    "docker__awesome-compose/angular/compose.yaml": 0,
    # not named like a Compose file: found by its top-level `services`.
    "4Science__DSpace/dspace/src/main/docker-compose/db.restore.yml": 1,
    # redpanda, etl (built here) and db.
    "docker__awesome-compose/wasmedge-kafka-mysql/compose.yml": 3,
}

BUILT_IN_CORPUS = {
    "docker__awesome-compose/wasmedge-kafka-mysql/compose.yml": ["etl-kafka"],
    "docker__awesome-compose/wasmedge-mysql-nginx/compose.yml": ["demo-microservice"],
}


@pytest.mark.corpus
@pytest.mark.parametrize("relative", CORPUS)
def test_corpus_counts(relative: str) -> None:
    occurrences = [o for o in scan_corpus_file(relative) if o.kind == "compose"]
    assert len(occurrences) == CORPUS[relative]
    assert all(o.text and o.text in o.reference_text for o in occurrences)


@pytest.mark.corpus
@pytest.mark.parametrize("relative", BUILT_IN_CORPUS)
def test_corpus_build_outputs(relative: str) -> None:
    occurrences = [o for o in scan_corpus_file(relative) if o.kind == "compose"]
    built = [o.text for o in occurrences if o.note == BUILT_HERE]
    assert built == BUILT_IN_CORPUS[relative]
    assert not any(o.rewritable for o in occurrences if o.note == BUILT_HERE)
