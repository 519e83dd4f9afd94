"""Fixtures for the devcontainer scanner."""

from __future__ import annotations

from tests.scanners.tables import Broken, FixtureTable, cases

PATH = ".devcontainer/devcontainer.json"

CASES: list[tuple[str, str, list[tuple[str, str]]]] = [
    (
        "image",
        '{"image": "mcr.microsoft.com/devcontainers/base:bookworm"}',
        [
            ("mcr.microsoft.com/devcontainers/base:bookworm", "image"),
        ],
    ),
    (
        "comments, trailing commas, a URL with // inside a string",
        '{\n  // "image": "commented:1",\n  /* "image": "block:2" */\n  "name": "http://x//y",\n'
        '  "image": "alpine:3.19", // trailing\n}\n',
        [("alpine:3.19", "image")],
    ),
    (
        "features keys are OCI references; local paths, URLs and short ids are not",
        '{"features": {\n  "ghcr.io/devcontainers/features/node:1": {"version": "20"},\n'
        '  "./local-feature": {},\n  "https://example.com/f.tgz": {},\n  "docker-in-docker": {},\n'
        '  "localhost:5000/f/x@sha256:' + "a" * 64 + '": {},\n}}',
        [
            ("ghcr.io/devcontainers/features/node:1", "features"),
            ("localhost:5000/f/x@sha256:" + "a" * 64, "features"),
        ],
    ),
    (
        "nested image keys are not the container image",
        '{"build": {"dockerfile": "Dockerfile", "args": {"image": "x:1"}, "cacheFrom": "y:2"},'
        ' "customizations": {"image": "z:3"}, "dockerComposeFile": "compose.yaml"}',
        [],
    ),
    ("non-string image", '{"image": 3, "features": []}', []),
    ("empty image", '{"image": ""}', []),
    ("top level is not an object", '["image", "alpine:3"]', []),
    ("empty file", "", []),
    ("only a comment", "// nothing here\n", []),
    (
        "templated image",
        '{"image": "mcr.microsoft.com/devcontainers/base:${templateOption:imageVariant}"}',
        [("mcr.microsoft.com/devcontainers/base:${templateOption:imageVariant}", "image")],
    ),
    ("duplicate key: the last one counts", '{"image": "a:1", "image": "b:2"}', [("b:2", "image")]),
]

# Counted by reading each file: the top-level "image" (commented-out lines do not count) and the
# uncommented keys of "features".
CORPUS = {
    "argoproj__argo-workflows/.devcontainer/devcontainer.json": 1,
    # "build" with a Dockerfile, no image; four ghcr.io Features.
    "argoproj__argo-workflows/.devcontainer/builder/devcontainer.json": 4,
    "devcontainers__templates/.devcontainer/devcontainer.json": 2,
    "devcontainers__templates/src/kubernetes-helm/.devcontainer/devcontainer.json": 3,
    "devcontainers__templates/src/python/.devcontainer/devcontainer.json": 1,
    # Compose-based: the image lives in the compose file, "features" is commented out.
    "devcontainers__templates/src/postgres/.devcontainer/devcontainer.json": 0,
    "devcontainers__templates/src/docker-outside-of-docker-compose/.devcontainer/devcontainer.json": 1,
    "devcontainers__templates/src/docker-existing-dockerfile/.devcontainer/devcontainer.json": 0,
    # Template options, not references: not scanned at all.
    "devcontainers__templates/src/python/devcontainer-template.json": 0,
}

BROKEN: list[tuple[str, int | None]] = [
    ('{"image": "alpine:3"\n "x": 1}', 2),
    ('{\n\n"image": "alpine:3', 3),
    ("{\n  /* open comment", 2),
    ('{"a": tru}', 1),
    ('{"a": 1} trailing', 1),
    ("{\n'single': 1}", 2),
    ('{"a": "\\q"}', 1),
    ("[" * 500, 1),
]

TABLE = FixtureTable(
    kind="devcontainer",
    path=PATH,
    claims=[
        ".devcontainer/devcontainer.json",
        "sub/.devcontainer/devcontainer.json",
        ".devcontainer/python/devcontainer.json",
        ".devcontainer.json",
        "src/x/.devcontainer.json",
    ],
    ignores=[
        "devcontainer.json",
        "src/python/devcontainer-template.json",
        ".devcontainer/devcontainer-lock.json",
        ".devcontainer/a/b/devcontainer.json",
        "features/src/go/devcontainer-feature.json",
    ],
    cases=cases(CASES),
    broken=[Broken(f"line {line}: {text[:30]!r}", text, line) for text, line in BROKEN],
    corpus=CORPUS,
)
