# Written for pinbot's tests (tests/scanners/test_contract.py): a seed the fuzzer mutates.
// A bake file in the style of the Docker Buildx Bake documentation.
variable "TAG" {
  default = "latest"
}

variable "BASE_IMAGE" {
  default = "node:20.11-alpine3.19"
}

variable "GO_VERSION" {
  default = "1.22"
}

RUNNER = "docker-image://gcr.io/distroless/nodejs20-debian12:nonroot"

group "default" {
  targets = ["app", "api", "docs"]
}

function "tag" {
  params = [name]
  result = ["acme/${name}:${TAG}"]
}

target "_common" {
  labels = {
    "org.opencontainers.image.source" = "https://github.com/acme/app"
  }
}

target "app" {
  inherits   = ["_common"]
  context    = "."
  dockerfile = "Dockerfile"
  args = {
    BASE_IMAGE = BASE_IMAGE
    NODE_ENV   = "production"
  }
  contexts = {
    runner = RUNNER
    alpine = "docker-image://alpine:3.19"
    src    = "target:deps"
  }
  tags      = tag("app")
  platforms = ["linux/amd64", "linux/arm64"]
  cache-from = ["type=registry,ref=acme/app:cache"]
}

target "api" {
  context = "api"
  args = {
    GO_BASE    = "golang:${GO_VERSION}-alpine"
    BUILDER_IMAGE = "docker.io/library/golang:1.22.1-bookworm"
  }
  tags = ["acme/api:${TAG}"]
}

/* Docs are built from an inline Dockerfile. */
target "docs" {
  dockerfile-inline = <<EOT
FROM python:3.12-slim AS build
RUN pip install mkdocs-material==9.5.13
COPY . /docs
RUN mkdocs build -f /docs/mkdocs.yml -d /site
FROM nginx:1.25-alpine
COPY --from=build /site /usr/share/nginx/html
EOT
  tags = tag("docs")
}

target "lint" {
  matrix = {
    tool = ["hadolint", "shellcheck"]
  }
  name = "lint-${tool}"
  dockerfile-inline = "FROM ${tool == "hadolint" ? "hadolint/hadolint:v2.12.0" : "koalaman/shellcheck:v0.10.0"}\nRUN echo \"lint\"\n"
}
