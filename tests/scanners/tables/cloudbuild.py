"""Fixtures for the Cloud Build scanner: each step's builder image, in YAML and JSON."""

from __future__ import annotations

from tests.scanners.tables import Case, FixtureTable, Trap

PATH = "cloudbuild.yaml"

CASES = [
    Case(
        "YAML steps; the images a build pushes are outputs",
        "steps:\n- id: build\n  name: 'gcr.io/cloud-builders/docker'\n  args: [build, -t, gcr.io/p/app, .]\n"
        "- name: gcr.io/k8s-skaffold/skaffold:v2.16.1  # deploy\n  entrypoint: bash\n"
        "images: [gcr.io/$PROJECT_ID/app]\n",
        [
            ("gcr.io/cloud-builders/docker", "steps[0].name"),
            ("gcr.io/k8s-skaffold/skaffold:v2.16.1", "steps[1].name"),
        ],
    ),
    Case(
        "JSON steps",
        '{\n  "steps": [\n    {"name": "gcr.io/cloud-builders/gcloud", "args": ["version"]}\n  ],\n  "images": ["gcr.io/p/x"]\n}\n',
        [("gcr.io/cloud-builders/gcloud", "steps[0].name")],
        path="cloudbuild.json",
    ),
]

TRAPS = [
    Trap(
        "outputs and artifacts",
        "images:\n- gcr.io/$PROJECT_ID/app\nartifacts:\n  objects:\n    location: gs://b\n",
    ),
    Trap("options", "options:\n  machineType: N1_HIGHCPU_8\ntimeout: 3600s\n"),
    Trap("steps without a name", "steps:\n- id: only-an-id\n- [a]\n- name: ''\n"),
    Trap("a list at the top", "- name: gcr.io/x\n"),
]

# Read: one step, `gcr.io/k8s-skaffold/skaffold:v2.16.1`; `--default-repo=gcr.io/…` in its
# folded args is an argument, not a step image.
CORPUS = {"GoogleCloudPlatform__microservices-demo/cloudbuild.yaml": 1}

TABLE = FixtureTable(
    kind="cloudbuild",
    path=PATH,
    claims=["cloudbuild.yml", "cloudbuild.json", "ci/cloudbuild-pr.yaml"],
    ignores=["build.yaml", "cloudbuild.sh"],
    cases=CASES,
    traps=TRAPS,
    corpus=CORPUS,
)
