"""Fixtures for the jenkinsfile scanner."""

from __future__ import annotations

from tests.scanners.tables import FixtureTable, cases, traps

PATH = "Jenkinsfile"

CASES: list[tuple[str, str, list[tuple[str, str]]]] = [
    (
        "declarative agents at pipeline and stage level",
        "pipeline {\n  agent {\n    docker {\n      image 'maven:3.9-eclipse-temurin-21'\n"
        "      args '-v $HOME/.m2:/root/.m2'\n      label 'linux'\n    }\n  }\n  stages {\n"
        "    stage('Front') {\n      agent { docker \"node:20-alpine\" }\n"
        "      steps { sh 'npm ci' }\n    }\n    stage('Lint') {\n"
        "      agent { dockerContainer { image('golangci/golangci-lint:v1.59') } }\n"
        "      steps { sh 'golangci-lint run' }\n    }\n  }\n}\n",
        [
            ("maven:3.9-eclipse-temurin-21", "agent docker image"),
            ("node:20-alpine", "agent docker"),
            ("golangci/golangci-lint:v1.59", "agent dockerContainer image"),
        ],
    ),
    (
        "scripted docker.image, except images the build pushes or tags",
        "node {\n  docker.image('postgres:16').withRun('-e POSTGRES_PASSWORD=x') { c ->\n"
        '    docker.image("golang:1.22").inside("--link ${c.id}:db") {\n      sh \'go test\'\n'
        "    }\n  }\n  def app = docker.build('acme/app:${env.BUILD_ID}')\n"
        "  docker.image('acme/app:latest').push()\n  docker.image('acme/app:1').tag('stable')\n}\n",
        [("postgres:16", "docker.image"), ("golang:1.22", "docker.image")],
    ),
    (
        "Kubernetes plugin containerTemplate",
        "podTemplate(containers: [\n  containerTemplate(name: 'maven', image: 'maven:3.9', "
        "command: 'sleep', args: '99d'),\n  containerTemplate(image: \"busybox:1.36\", name: 'bb')\n]) {\n"
        "  node(POD_LABEL) { container('maven') { sh 'mvn -B package' } }\n}\n",
        [("maven:3.9", "containerTemplate image"), ("busybox:1.36", "containerTemplate image")],
    ),
]

TRAPS: list[tuple[str, str]] = [
    (
        "comments",
        "// agent { docker 'alpine:3' }\n/* docker.image('nginx:1').inside {\n} */\n"
        "pipeline { agent any // docker.image('x:1')\n}\n",
    ),
    (
        "strings and other agents",
        "pipeline {\n  agent { dockerfile { filename 'Dockerfile.ci' } }\n  stages { stage('a') {\n"
        "    agent { label 'docker' }\n    steps { sh \"docker run alpine:3 echo 'agent { docker \\\"x\\\" }'\" }\n"
        "    environment { IMAGE = 'node:20' }\n  } }\n}\n",
    ),
    (
        "image outside a docker agent",
        "pipeline { agent { kubernetes { image 'x:1' } } }\nimage 'y:2'\n",
    ),
    ("empty", ""),
]

TABLE = FixtureTable(
    kind="jenkinsfile",
    path=PATH,
    claims=[
        "Jenkinsfile",
        "ci/Jenkinsfile",
        "Jenkinsfile.release",
        "nightly.Jenkinsfile",
        "jenkins/deploy.jenkinsfile",
        "Jenkinsfile.groovy",
    ],
    ignores=[
        "Jenkinsfile.md",
        "Jenkinsfile.txt",
        "Jenkinsfiles/README",
        "Dockerfile",
        # source code about Jenkinsfiles is not one
        "pinbot/scanners/jenkinsfile.py",
        "src/jenkinsfile.go",
        "lib/Jenkinsfile.java",
        "web/jenkinsfile.ts",
        "tests/jenkinsfile.json",
        "Jenkinsfile.bak",
    ],
    cases=cases(CASES),
    traps=traps(TRAPS),
)
