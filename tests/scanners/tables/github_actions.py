"""Fixtures for the github-actions scanner."""

from __future__ import annotations

from tests.scanners.tables import FixtureTable, cases, traps

PATH = ".github/workflows/ci.yml"

CASES: list[tuple[str, str, list[tuple[str, str]]]] = [
    (
        "container as a string",
        "jobs:\n  build:\n    runs-on: ubuntu-latest\n    container: node:20\n",
        [("node:20", "jobs.build.container")],
    ),
    (
        "container as a map, quoted, with credentials and options",
        'jobs:\n  build:\n    container:\n      image: "ghcr.io/acme/ci:1.2"\n'
        "      credentials:\n        username: me\n      options: --cpus 1\n",
        [("ghcr.io/acme/ci:1.2", "jobs.build.container.image")],
    ),
    (
        "services as maps and as a string",
        "jobs:\n  test:\n    services:\n      db:\n        image: 'postgres:16'\n"
        "        ports: ['5432:5432']\n      cache: redis:7\n",
        [("postgres:16", "jobs.test.services.db.image"), ("redis:7", "jobs.test.services.cache")],
    ),
    (
        "docker:// step: the span excludes the scheme",
        "jobs:\n  a:\n    steps:\n      - uses: actions/checkout@v4\n"
        "      - uses: docker://alpine:3.20\n        with:\n          args: echo hi\n",
        [("alpine:3.20", "jobs.a.steps[1].uses")],
    ),
    (
        "docker:// step pinned and quoted",
        "jobs:\n  a:\n    steps:\n      - uses: 'docker://ghcr.io/o/i@sha256:" + "a" * 64 + "'\n",
        [("ghcr.io/o/i@sha256:" + "a" * 64, "jobs.a.steps[0].uses")],
    ),
    (
        "setup-qemu image input",
        "jobs:\n  a:\n    steps:\n      - uses: docker/setup-qemu-action@v3\n"
        "        with:\n          image: tonistiigi/binfmt:qemu-v8 # comment\n",
        [("tonistiigi/binfmt:qemu-v8", "jobs.a.steps[0].with.image")],
    ),
    (
        "setup-buildx driver-opts image in a block scalar",
        "jobs:\n  a:\n    steps:\n      - uses: docker/setup-buildx-action@v3\n        with:\n"
        "          driver-opts: |\n            network=host\n            image=moby/buildkit:v0.23.0\n",
        [("moby/buildkit:v0.23.0", "jobs.a.steps[0].with.driver-opts")],
    ),
    (
        "setup-buildx driver-opts comma-separated on one line",
        "jobs:\n  a:\n    steps:\n      - uses: docker/setup-buildx-action@v3\n        with:\n"
        '          driver-opts: "network=host,image=moby/buildkit:v0.23.0"\n',
        [("moby/buildkit:v0.23.0", "jobs.a.steps[0].with.driver-opts")],
    ),
    (
        "expressions are reported",
        "jobs:\n  a:\n    container: ${{ matrix.image }}\n    services:\n"
        "      db:\n        image: postgres:${{ matrix.pg }}\n",
        [
            ("${{ matrix.image }}", "jobs.a.container"),
            ("postgres:${{ matrix.pg }}", "jobs.a.services.db.image"),
        ],
    ),
    (
        "an anchored service reused by alias is one finding, at the anchor",
        "jobs:\n  a:\n    services:\n      db: &db\n        image: postgres:16\n"
        "  b:\n    services:\n      db: *db\n",
        [("postgres:16", "jobs.a.services.db.image")],
    ),
    (
        "docker action: runs.image with the scheme",
        "name: x\nruns:\n  using: docker\n  image: 'docker://alpine:3.20'\n  args: [a]\n",
        [("alpine:3.20", "runs.image")],
    ),
    (
        "composite action: docker:// step under runs.steps",
        "runs:\n  using: composite\n  steps:\n    - uses: docker://busybox:1.36\n    - run: echo\n      shell: bash\n",
        [("busybox:1.36", "runs.steps[0].uses")],
    ),
    (
        "a folded container value is reported but not rewritable",
        "jobs:\n  a:\n    container: >-\n      node:20\n",
        [(">-\n      node:20", "jobs.a.container")],  # the span is the scalar as written
    ),
]

TRAPS: list[tuple[str, str]] = [
    (
        "actions are not images",
        "jobs:\n  a:\n    steps:\n      - uses: actions/checkout@v4\n      - uses: ./local\n",
    ),
    (
        "reusable workflow call and its inputs",
        "jobs:\n  a:\n    uses: o/r/.github/workflows/w.yml@v1\n    with:\n      image: ghcr.io/o/i:1\n",
    ),
    (
        "matrix values named image",
        "jobs:\n  a:\n    strategy:\n      matrix:\n        image: [regctl, regsync]\n",
    ),
    (
        "image input of an unknown action",
        "jobs:\n  a:\n    steps:\n      - uses: some/action@v1\n        with:\n          image: foo:1\n",
    ),
    ("docker action built from a Dockerfile", "runs:\n  using: docker\n  image: Dockerfile\n"),
    (
        "docker action path without the scheme",
        "runs:\n  using: docker\n  image: ./docker/Dockerfile\n",
    ),
    (
        "empty and null values",
        "jobs:\n  a:\n    container:\n    services:\n      db:\n        image: ''\n",
    ),
    (
        "odd shapes",
        'jobs:\n  - a\n  - b\n---\njobs: 3\n---\n- x\n---\njobs:\n  a: [1]\n  b:\n    services: [redis]\n    steps: {uses: "docker://x"}\n',
    ),
    ("comments", "jobs:\n  a:\n    # container: node:20\n    runs-on: ubuntu-latest\n"),
    (
        "keys outside jobs",
        "env:\n  IMAGE: node:20\ncontainer: node:20\nservices:\n  db:\n    image: postgres\n",
    ),
    (
        "buildx options without an image",
        "jobs:\n  a:\n    steps:\n      - uses: docker/setup-buildx-action@v3\n        with:\n          driver-opts: network=host\n",
    ),
]

# Counted by reading each file: `container`/`container.image` and `services.*.image` under
# jobs, `uses: docker://…` steps, and the `image` input of docker/setup-qemu-action. Files
# with none (checkout-only workflows, `image:` under slsa reusable-workflow `with:` and
# under a matrix) are listed with 0 as traps.
CORPUS = {
    # container + 2 services, the vm-job repeats the service
    "actions__example-services/.github/workflows/mongodb-service.yml": 3,
    "actions__example-services/.github/workflows/postgres-service.yml": 3,
    "actions__example-services/.github/workflows/redis-service.yml": 3,
    # setup-qemu `image:` (pinned) and setup-buildx `driver-opts: | image=moby/buildkit@…`
    "argoproj__argo-cd/.github/workflows/image-reuse.yaml": 2,
    # `with.image: ${{ … }}` of the slsa generator names the image being attested, not one used
    "argoproj__argo-cd/.github/workflows/image.yaml": 0,
    "argoproj__argo-cd/.github/workflows/release.yaml": 0,
    "argoproj__argo-workflows/.github/workflows/devcontainer.yaml": 1,
    "open-telemetry__opentelemetry-demo/.github/workflows/component-build-images.yml": 1,
    "regclient__regclient/.github/workflows/version-check.yml": 1,
    # matrix `image: ["regctl", …]` names outputs
    "regclient__regclient/.github/workflows/docker.yml": 0,
    "typeorm__typeorm/.github/workflows/mutation-test.yml": 3,
    # 9 services; postgres is templated by `${{ matrix.postgres-version }}`
    "typeorm__typeorm/.github/workflows/tests-linux.yml": 9,
    "typeorm__typeorm/.github/workflows/tests.yml": 0,
}

TABLE = FixtureTable(
    kind="github-actions",
    path=PATH,
    claims=[
        ".github/workflows/ci.yml",
        ".github/workflows/release.yaml",
        "corpus__repo/.github/workflows/ci.yml",
        "action.yml",
        "tools/setup/action.yaml",
    ],
    ignores=[".github/workflows/README.md", ".github/dependabot.yml", "workflows/ci.yml", "ci.yml"],
    cases=cases(CASES),
    traps=traps(TRAPS),
    corpus=CORPUS,
)
