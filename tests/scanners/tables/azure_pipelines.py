"""Fixtures for the azure-pipelines scanner."""

from __future__ import annotations

from tests.scanners.tables import FixtureTable, cases, traps

PATH = "azure-pipelines.yml"

CASES: list[tuple[str, str, list[tuple[str, str]]]] = [
    (
        "container job given an image, service containers by alias",
        "resources:\n  containers:\n  - container: builder\n    image: buildpack-deps:focal\n"
        "  - container: nginx\n    image: 'nginx:1.27'\n    ports: [8080:80]\n"
        "pool:\n  vmImage: ubuntu-latest\ncontainer: builder\nservices:\n  web: nginx\n"
        "steps:\n- script: curl web\n  target: builder\n",
        [
            ("buildpack-deps:focal", "resources.containers[0].image"),
            ("nginx:1.27", "resources.containers[1].image"),
        ],
    ),
    (
        "container and services written as images",
        "pool:\n  vmImage: ubuntu-22.04\ncontainer: ubuntu:22.04\nservices:\n"
        '  db: postgres:16\n  cache: "redis:7"\n',
        [
            ("ubuntu:22.04", "container"),
            ("postgres:16", "services.db"),
            ("redis:7", "services.cache"),
        ],
    ),
    (
        "jobs and deployment jobs in stages, container as a mapping",
        "stages:\n- stage: Build\n  jobs:\n  - job: Linux\n    container:\n"
        "      image: mcr.microsoft.com/dotnet/sdk:8.0\n      options: --user 0\n"
        "      endpoint: acr-connection\n  - deployment: Ship\n    environment: prod\n"
        "    container: alpine:3.20\n    strategy:\n      runOnce:\n        deploy:\n"
        "          steps: [{script: echo}]\n",
        [
            ("mcr.microsoft.com/dotnet/sdk:8.0", "stages[0].jobs[0].container.image"),
            ("alpine:3.20", "stages[0].jobs[1].container"),
        ],
    ),
    (
        "conditional insertion keys and items",
        "jobs:\n- job: A\n  ${{ if eq(parameters.linux, true) }}:\n    container: node:20\n"
        "  ${{ else }}:\n    container: mcr.microsoft.com/windows/servercore:ltsc2022\n"
        "- ${{ if parameters.extra }}:\n  - job: B\n    services:\n      ${{ if true }}:\n"
        "        mq: rabbitmq:3\n",
        [
            ("node:20", "jobs[0].container"),
            ("mcr.microsoft.com/windows/servercore:ltsc2022", "jobs[0].container"),
            ("rabbitmq:3", "jobs[1].services.mq"),
        ],
    ),
    (
        "a template file of jobs",
        "parameters:\n- name: image\n  default: golang:1.22\njobs:\n- job: test\n"
        "  container: ${{ parameters.image }}\n- template: other.yml\n  parameters:\n"
        "    container: python:3.12\n",
        [("${{ parameters.image }}", "jobs[0].container")],
    ),
]

TRAPS: list[tuple[str, str]] = [
    (
        "VM images of hosted pools",
        "pool:\n  vmImage: ubuntu-latest\njobs:\n- job: a\n  pool:\n    vmImage: windows-2022\n",
    ),
    (
        "aliases, step targets and ACR resources",
        "resources:\n  containers:\n  - container: acr\n    type: ACR\n    azureSubscription: sub\n"
        "    resourceGroup: rg\n    registry: reg\n    repository: app\n"
        "container: acr\nservices:\n  svc: acr\nsteps:\n- script: make\n  target: host\n",
    ),
    (
        "Docker task inputs and template references",
        "steps:\n- task: Docker@2\n  inputs:\n    repository: acme/app\n    command: buildAndPush\n"
        "    tags: $(Build.BuildId)\n- template: steps/image.yml\n  parameters:\n    image: node:20\n",
    ),
    (
        "odd shapes",
        "container: [a]\nservices: x\njobs: 3\n---\n- container: x\n---\nstages:\n- [a]\n",
    ),
    ("empty", ""),
]

TABLE = FixtureTable(
    kind="azure-pipelines",
    path=PATH,
    claims=[
        "azure-pipelines.yml",
        "azure-pipelines.yaml",
        "azure-pipelines-release.yml",
        "org__repo/azure-pipelines.yml",
        ".azure-pipelines/ci.yml",
        ".azure-pipelines/templates/jobs/build.yaml",
        "azure-pipelines/templates/steps.yml",
        ".pipelines/OneBranch.Official.yml",
        ".azuredevops/pr.yml",
    ],
    ignores=[
        "azure-pipelines.md",
        ".azure-pipelines/README.md",
        "pipelines/ci.yml",
        "bitbucket-pipelines.yml",
        ".github/workflows/ci.yml",
    ],
    cases=cases(CASES),
    traps=traps(TRAPS),
)
