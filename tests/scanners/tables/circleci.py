"""Fixtures for the circleci scanner."""

from __future__ import annotations

from tests.scanners.tables import FixtureTable, cases, traps

PATH = ".circleci/config.yml"

CASES: list[tuple[str, str, list[tuple[str, str]]]] = [
    (
        "job with a primary image and a service image",
        "version: 2.1\njobs:\n  test:\n    docker:\n      - image: cimg/ruby:3.3-node\n"
        "        auth:\n          username: me\n      - image: 'cimg/postgres:16.2'\n"
        "        environment:\n          POSTGRES_USER: x\n    steps: [checkout]\n",
        [
            ("cimg/ruby:3.3-node", "jobs.test.docker[0].image"),
            ("cimg/postgres:16.2", "jobs.test.docker[1].image"),
        ],
    ),
    (
        "executors, and an anchor reused by alias once",
        'executors:\n  node:\n    docker:\n      - &node\n        image: "cimg/node:20.11"\n'
        "jobs:\n  a:\n    docker:\n      - *node\n    steps: [checkout]\n",
        [("cimg/node:20.11", "executors.node.docker[0].image")],
    ),
    (
        "inline orb executors and jobs",
        "orbs:\n  node: circleci/node@5\n  mine:\n    executors:\n      default:\n        docker:\n"
        "          - image: cimg/base:2024.01\n    jobs:\n      hello:\n        docker:\n"
        "          - image: cimg/go:1.22\n        steps: [checkout]\n",
        [
            ("cimg/base:2024.01", "orbs.mine.executors.default.docker[0].image"),
            ("cimg/go:1.22", "orbs.mine.jobs.hello.docker[0].image"),
        ],
    ),
    (
        "orb parameters are CircleCI interpolation",
        "jobs:\n  a:\n    parameters:\n      tag:\n        type: string\n        default: '3.12'\n"
        "    docker:\n      - image: cimg/python:<< parameters.tag >>\n    steps: [checkout]\n",
        [("cimg/python:<< parameters.tag >>", "jobs.a.docker[0].image")],
    ),
]

TRAPS: list[tuple[str, str]] = [
    ("orbs are not images", "orbs:\n  ruby: circleci/ruby@1.1.0\n  node: circleci/node@2\n"),
    (
        "machine images are VM images",
        "jobs:\n  a:\n    machine:\n      image: ubuntu-2204:2024.01.1\n",
    ),
    (
        "executor references by name",
        "jobs:\n  a:\n    executor: node/default\n    steps: [checkout]\n",
    ),
    (
        "workflows",
        "workflows:\n  build:\n    jobs:\n      - build\n      - test:\n          requires: [build]\n",
    ),
    (
        "odd shapes",
        "jobs: [a]\n---\njobs:\n  a: 3\n  b:\n    docker: cimg/go\n  c:\n    docker: [cimg/go, {image: ''}]\n",
    ),
    ("comments", "jobs:\n  a:\n    docker:\n      # - image: cimg/go:1.22\n      - auth: {}\n"),
]

# Read: jobs.build has cimg/ruby; jobs.test has cimg/ruby and circleci/postgres; the two
# orbs are packages.
CORPUS = {"CircleCI-Public__circleci-demo-ruby-rails/.circleci/config.yml": 3}

TABLE = FixtureTable(
    kind="circleci",
    path=PATH,
    claims=[".circleci/config.yml", "org__repo/.circleci/continue_config.yaml"],
    ignores=[".circleci/images/Dockerfile", "circleci/config.yml", "config.yml"],
    cases=cases(CASES),
    traps=traps(TRAPS),
    corpus=CORPUS,
)
