"""Fixtures for the bake scanner."""

from __future__ import annotations

from tests.scanners.tables import Broken, FixtureTable, cases

PATH = "docker-bake.hcl"

CASES: list[tuple[str, str, list[tuple[str, str]]]] = [
    (
        "docker-image context; other context kinds are not images",
        'target "app" {\n  contexts = {\n    alpine = "docker-image://alpine:3.19"\n'
        '    src = "../src"\n    base = "target:base"\n    git = "https://github.com/a/b.git"\n'
        '    layout = "oci-layout://./layout@sha256:' + "a" * 64 + '"\n  }\n}\n',
        [("alpine:3.19", 'target "app" contexts.alpine')],
    ),
    (
        "tags, cache and outputs are not inputs",
        'target "app" {\n  tags = ["ghcr.io/acme/app:1.0"]\n  cache-from = ["type=registry,ref=ghcr.io/acme/app:cache"]\n'
        '  output = ["type=image,name=ghcr.io/acme/app:2"]\n}\n',
        [],
    ),
    (
        "image build args by name, literal and templated; other args are not images",
        'variable "REG" { default = "ghcr.io/acme" }\ntarget "a" {\n  args = {\n'
        '    BASE_IMAGE = "python:3.12-slim"\n    RUNNER_IMAGE = "${REG}/runner:1"\n'
        '    GO_VERSION = "1.22"\n    BASE_IMAGE_KIND = "not a reference!"\n  }\n}\n',
        [
            ("python:3.12-slim", 'target "a" args.BASE_IMAGE'),
            ("${REG}/runner:1", 'target "a" args.RUNNER_IMAGE'),
        ],
    ),
    (
        "variable default used as a whole arg and context",
        'variable "BASE" {\n  default = "alpine:3.19"\n}\nBUILDER = "docker-image://golang:1.22"\n'
        'target "a" {\n  args = { BASE_IMAGE = "${BASE}" }\n  contexts = { golang = BUILDER }\n}\n'
        'target "b" {\n  args = { BASE_IMAGE = BASE }\n}\n',
        [
            (
                "alpine:3.19",
                'variable BASE (used by target "a" args.BASE_IMAGE, target "b" args.BASE_IMAGE)',
            ),
            ("golang:1.22", 'variable BUILDER (used by target "a" contexts.golang)'),
        ],
    ),
    (
        "context built on a variable",
        'variable "TAG" { default = "3.19" }\ntarget "a" {\n  contexts = { alpine = "docker-image://alpine:${TAG}" }\n}\n',
        [("alpine:${TAG}", 'target "a" contexts.alpine')],
    ),
    (
        "inline Dockerfile in a heredoc",
        'target "a" {\n  dockerfile-inline = <<EOT\nFROM alpine:3.19 AS base\nFROM base\nCOPY --from=busybox:1 / /\nEOT\n'
        '  args = {\n    X_IMAGE = "nginx:1"\n  }\n}\n',
        [
            ("alpine:3.19", 'target "a" dockerfile-inline FROM (stage base)'),
            ("busybox:1", 'target "a" dockerfile-inline COPY --from'),
            ("nginx:1", 'target "a" args.X_IMAGE'),
        ],
    ),
    (
        "comments of all kinds, nested interpolation with quotes, functions and matrices",
        '# contexts = { a = "docker-image://x:1" }\n// another\n/* block\n target "z" {} */\n'
        'platforms = { "3.21" : ["linux/amd64"], }\n'
        'target "w" {\n  name = "w-${replace(item.version, ":", "-")}"\n'
        '  matrix = { item = [{ version = "nanoserver:ltsc2019" }] }\n'
        '  output = ["dest=${v == "latest" ? "-${v}" : v}.tar"]\n'
        '  contexts = { a = "docker-image://ghcr.io/a/b:2" }\n}\n'
        'group "default" { targets = ["w"] }\nfunction "f" {\n  params = [x]\n  result = "${x}"\n}\n',
        [("ghcr.io/a/b:2", 'target "w" contexts.a')],
    ),
    ("empty file", "", []),
    ("only comments", "# nothing\n", []),
]

# Counted by reading each file. Only `args.BASE_IMAGE` values are inputs: each target's is built
# from RUNNER_IMAGES_REGISTRY and RUNNER_IMAGES_VERSION (templated). `contexts` point at local
# directories, `tags` are outputs, and the variable defaults are a registry prefix and a version
# used inside longer strings, so none of them is an image on its own.
CORPUS = {
    # BASE_IMAGE in ubuntu, ubi-fips, alpine, local-image.
    "gitlabhq__gitlab-runner/dockerfiles/runner/docker-bake.hcl": 4,
    # BASE_IMAGE in alpine, alpine-pwsh, ubuntu, ubuntu-pwsh, ubi-fips, concrete, windows,
    # local-image, local-image-concrete.
    "gitlabhq__gitlab-runner/dockerfiles/runner-helper/docker-bake.hcl": 9,
    # Only a matrix of Dockerfiles, a directory context and output tags.
    "gitlabhq__gitlab-runner/tests/dockerfiles/docker-bake.hcl": 0,
}

BROKEN: list[tuple[str, int | None]] = [
    ('target "a" {\n  args = {\n', 3),
    ('target "a" {\n  x = "unterminated\n}\n', 2),
    ("target {\n}\n}\n", 3),
    ('target "a" {\n  x = <<EOT\nno end\n', 2),
    ('target "a" {\n  = 3\n}\n', 2),
    ("/* open", 1),
]

TABLE = FixtureTable(
    kind="bake",
    path=PATH,
    claims=[
        "docker-bake.hcl",
        "build/docker-bake.override.hcl",
        "docker-bake.json",
        "release.bake.hcl",
    ],
    ignores=["main.tf", "packer.pkr.hcl", "config.hcl", "docker-compose.yml"],
    cases=cases(CASES),
    broken=[Broken(f"line {line}: {text[:30]!r}", text, line) for text, line in BROKEN],
    corpus=CORPUS,
)
