"""The scanners pinbot runs: one line per file kind, in the order that names a span's kind.

Adding a file kind is one module exposing a scanner, one line here and one fixture table in
`tests/scanners/`.
"""

from __future__ import annotations

from pinbot.scanners import (
    azure_pipelines,
    bake,
    bitbucket,
    buildkite,
    circleci,
    cloudbuild,
    compose,
    concourse,
    devcontainer,
    dockerfile,
    drone,
    earthfile,
    github_actions,
    gitlab_ci,
    gitpod,
    helm,
    jenkinsfile,
    kubernetes,
    kustomize,
    nomad,
    quadlet,
    skaffold,
    woodpecker,
)
from pinbot.scanners.interface import Scanner

__all__ = ["SCANNERS", "scanner_of_kind"]

# Scanners that claim files by name: the Helm-values scanner leaves their files alone.
_CLAIMING_BY_NAME: tuple[Scanner, ...] = (
    azure_pipelines.SCANNER,
    bitbucket.SCANNER,
    buildkite.SCANNER,
    circleci.SCANNER,
    cloudbuild.SCANNER,
    drone.SCANNER,
    github_actions.SCANNER,
    gitpod.SCANNER,
    kustomize.SCANNER,
    skaffold.SCANNER,
    woodpecker.SCANNER,
)

# Order matters: when two scanners report the same span, the earlier one names the kind.
# The generic Helm-values scanner comes last so specific kinds win.
SCANNERS: tuple[Scanner, ...] = (
    dockerfile.SCANNER,
    compose.SCANNER,
    kubernetes.SCANNER,
    kustomize.SCANNER,
    github_actions.SCANNER,
    gitlab_ci.SCANNER,
    circleci.SCANNER,
    bitbucket.SCANNER,
    drone.SCANNER,
    cloudbuild.SCANNER,
    skaffold.SCANNER,
    gitpod.SCANNER,
    devcontainer.SCANNER,
    bake.BakeScanner(dockerfile=dockerfile.SCANNER),
    azure_pipelines.SCANNER,
    woodpecker.SCANNER,
    buildkite.SCANNER,
    jenkinsfile.SCANNER,
    nomad.SCANNER,
    earthfile.SCANNER,
    concourse.SCANNER,
    quadlet.SCANNER,
    helm.HelmScanner(claimed_by_name=_CLAIMING_BY_NAME),
)


def scanner_of_kind(kind: str) -> Scanner:
    """The scanner that names its findings `kind`."""
    return {scanner.kind: scanner for scanner in SCANNERS}[kind]
