"""Fixtures for the compose scanner."""

from __future__ import annotations

from tests.scanners.tables import Case, FixtureTable

PATH = "compose.yaml"

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

TABLE = FixtureTable(
    kind="compose",
    path=PATH,
    claims=["docker-compose.yml", "compose.prod.yaml", "notes.yaml"],
    ignores=["compose.json", "Dockerfile"],
    cases=[Case(name, text, expected, path) for name, (path, text, expected) in CASES.items()],
    corpus=CORPUS,
)
