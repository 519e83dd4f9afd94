"""Fixtures for the nomad scanner."""

from __future__ import annotations

from tests.scanners.tables import FixtureTable, cases, traps

PATH = "jobs/web.nomad.hcl"

CASES: list[tuple[str, str, list[tuple[str, str]]]] = [
    (
        "docker tasks in groups, driver after config, single-line config",
        'job "web" {\n  datacenters = ["dc1"]\n  group "app" {\n    count = 2\n'
        '    network {\n      port "http" { to = 8080 }\n    }\n    task "api" {\n'
        '      driver = "docker"\n      config {\n        image = "ghcr.io/acme/api:1.4"\n'
        '        ports = ["http"]\n        args  = [\n          "--port", "8080",\n        ]\n'
        '      }\n    }\n    task "cache" {\n      config { image = "redis:7" }\n'
        '      driver = "docker"\n    }\n  }\n}\n',
        [
            ("ghcr.io/acme/api:1.4", 'job "web" group "app" task "api" config.image'),
            ("redis:7", 'job "web" group "app" task "cache" config.image'),
        ],
    ),
    (
        "podman with and without the docker transport, a Connect sidecar",
        'job "j" {\n  group "g" {\n    task "a" {\n      driver = "podman"\n'
        '      config {\n        image = "docker://docker.io/library/nginx:1.27"\n      }\n    }\n'
        '    task "b" {\n      driver = "podman"\n      config { image = "quay.io/acme/b:2" }\n'
        "    }\n    service {\n      connect {\n        sidecar_task {\n"
        '          driver = "docker"\n          config { image = "envoyproxy/envoy:v1.30.1" }\n'
        "        }\n      }\n    }\n  }\n}\n",
        [
            ("docker.io/library/nginx:1.27", 'job "j" group "g" task "a" config.image'),
            ("quay.io/acme/b:2", 'job "j" group "g" task "b" config.image'),
            (
                "envoyproxy/envoy:v1.30.1",
                'job "j" group "g" service connect sidecar_task config.image',
            ),
        ],
    ),
]

TRAPS: list[tuple[str, str]] = [
    (
        "other drivers and transports",
        'job "j" {\n  group "g" {\n    task "e" {\n      driver = "exec"\n'
        '      config { command = "/bin/app"\n image = "alpine:3" }\n    }\n'
        '    task "o" {\n      driver = "podman"\n      config { image = "oci-archive:/tmp/app.tar" }\n'
        "    }\n  }\n}\n",
    ),
    (
        "images outside config, templates and comments",
        '# config { image = "a:1" }\n// driver = "docker"\n/* task "x" { driver = "docker" '
        'config { image = "b:1" } } */\njob "j" {\n  meta { image = "c:1" }\n'
        '  group "g" {\n    task "t" {\n      driver = "docker"\n      meta { image = "d:1" }\n'
        '      template {\n        data = <<EOH\nimage = "e:1"\nEOH\n        destination = "x"\n'
        "      }\n      config {\n        image = var.image\n      }\n    }\n  }\n}\n",
    ),
    (
        "a driver given by a variable",
        'task "t" {\n  driver = var.driver\n  config { image = "f:1" }\n}\n',
    ),
    ("empty", ""),
]

TABLE = FixtureTable(
    kind="nomad",
    path=PATH,
    claims=["web.nomad", "jobs/web.nomad.hcl", "org__repo/deploy/API.NOMAD"],
    ignores=["docker-bake.hcl", "main.tf", "nomad.hcl", "web.nomad.json"],
    cases=cases(CASES),
    traps=traps(TRAPS),
)
