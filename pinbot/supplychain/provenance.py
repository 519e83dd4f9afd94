"""SLSA provenance (v0.2 and v1) reduced to what a reviewer asks: built from what, by whom.

Pure: takes a provenance predicate (as BuildKit, the SLSA GitHub generator and others write
it) and returns a `Provenance`: source repository and commit, builder id, build trigger, and
the base images from the materials. Fields of the wrong shape read as absent.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from pinbot.supplychain._fields import hex_digest, mapping, objects, string
from pinbot.supplychain.attestations import SLSA_PROVENANCE_V1

BUILDKIT_METADATA = "https://mobyproject.org/buildkit@v1#metadata"
MAX_MATERIALS = 512
_COMMIT = re.compile(r"^(?:[0-9a-f]{40}|[0-9a-f]{64})$")
_DOCKER_PURL = re.compile(r"^pkg:docker/(?P<name>[^@?#\s]+)(?:@(?P<tag>[^?#\s]+))?")
_GIT_SCHEMES = ("git+https://", "git+ssh://", "git://", "https://", "ssh://", "git@")


@dataclass(frozen=True)
class BaseImage:
    """An image the build started from (a `pkg:docker/…` material) and its digest."""

    name: str
    digest: str | None


@dataclass(frozen=True)
class Provenance:
    """Where a build came from, as its provenance statement says."""

    predicate_type: str
    source: str | None = None  # repository URL, without a ref or `.git`
    commit: str | None = None
    builder: str | None = None
    trigger: str | None = None
    base_images: tuple[BaseImage, ...] = ()


def _clean_source(uri: str) -> str:
    """A repository URL without fragment, query, `git+` prefix or `.git` suffix."""
    uri = uri.split("#", 1)[0].split("?", 1)[0]
    uri = uri.removeprefix("git+")
    if uri.startswith("git@github.com:"):
        uri = "https://github.com/" + uri.removeprefix("git@github.com:")
    uri = uri.rstrip("/")
    return uri.removesuffix(".git")


def _commit(digests: object) -> str | None:
    return hex_digest(digests, "sha1", 40) or hex_digest(digests, "gitCommit", 40)


def _materials(predicate: Mapping[str, Any]) -> Iterator[tuple[str, Mapping[str, Any] | None]]:
    """(uri, digest set) of v0.2 `materials` or v1 `resolvedDependencies`."""
    definition = mapping(predicate, "buildDefinition")
    source = definition if definition is not None else predicate
    key = "resolvedDependencies" if definition is not None else "materials"
    for material in objects(source, key, MAX_MATERIALS):
        uri = string(material, "uri", limit=2048)
        if uri is not None:
            yield uri, mapping(material, "digest")


def base_images(predicate: Mapping[str, Any]) -> tuple[BaseImage, ...]:
    """Every `pkg:docker/NAME@TAG` material, with its sha256 digest when given."""
    out: list[BaseImage] = []
    for uri, digests in _materials(predicate):
        match = _DOCKER_PURL.match(uri)
        if not match:
            continue
        name = unquote(match.group("name"))
        tag = match.group("tag")
        shown = f"{name}:{unquote(tag)}" if tag else name
        sha256 = hex_digest(digests, "sha256", 64)
        image = BaseImage(shown[:256], f"sha256:{sha256}" if sha256 else None)
        if image not in out:
            out.append(image)
    return tuple(out)


def _vcs(predicate: Mapping[str, Any]) -> tuple[str | None, str | None]:
    """BuildKit's own record of the build context's repository and revision."""
    for container in (predicate, mapping(predicate, "runDetails")):
        vcs = mapping(container, "metadata", BUILDKIT_METADATA, "vcs")
        if vcs is not None:
            return string(vcs, "source"), string(vcs, "revision")
    return None, None


def _config_source(predicate: Mapping[str, Any]) -> tuple[str | None, str | None]:
    config = mapping(predicate, "invocation", "configSource") or mapping(
        predicate, "buildDefinition", "externalParameters", "configSource"
    )
    if config is None:
        return None, None
    return string(config, "uri", limit=2048), _commit(mapping(config, "digest"))


def _git_material(predicate: Mapping[str, Any]) -> tuple[str | None, str | None]:
    for uri, digests in _materials(predicate):
        commit = _commit(digests)
        if commit and uri.startswith(_GIT_SCHEMES) and not uri.startswith("pkg:"):
            return uri, commit
    return None, None


def _source_and_commit(predicate: Mapping[str, Any]) -> tuple[str | None, str | None]:
    for source, commit in (_vcs(predicate), _config_source(predicate), _git_material(predicate)):
        if source and commit and _COMMIT.match(commit):
            return _clean_source(source), commit
    for source, _ in (_vcs(predicate), _config_source(predicate)):
        if source:
            return _clean_source(source), None
    return None, None


def _trigger(predicate: Mapping[str, Any]) -> str | None:
    """The event that started the build (GitHub's `event_name`), where the provenance says."""
    candidates = (
        string(predicate, "invocation", "environment", "github_event_name", limit=64),
        string(
            predicate, "buildDefinition", "internalParameters", "github", "event_name", limit=64
        ),
        string(
            predicate, "buildDefinition", "externalParameters", "github", "event_name", limit=64
        ),
    )
    return next((c for c in candidates if c), None)


def _builder(predicate: Mapping[str, Any]) -> str | None:
    return string(predicate, "builder", "id") or string(predicate, "runDetails", "builder", "id")


def parse_provenance(predicate_type: str, predicate: Mapping[str, Any]) -> Provenance:
    """The reviewer's view of a SLSA provenance predicate (v0.2 or v1)."""
    if predicate_type == SLSA_PROVENANCE_V1 and mapping(predicate, "buildDefinition") is None:
        return Provenance(predicate_type)
    source, commit = _source_and_commit(predicate)
    return Provenance(
        predicate_type=predicate_type,
        source=source,
        commit=commit,
        builder=_builder(predicate),
        trigger=_trigger(predicate),
        base_images=base_images(predicate),
    )
