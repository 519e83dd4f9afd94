"""Manifests as pinbot reads them: media types, digests, platforms and image metadata.

Pure functions over bytes and JSON; the client fetches, this module decides.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pinbot.errors import PinbotError
from pinbot.reference import is_valid_digest

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
DOCKER_MANIFEST_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_SCHEMA1 = "application/vnd.docker.distribution.manifest.v1+json"
DOCKER_SCHEMA1_SIGNED = "application/vnd.docker.distribution.manifest.v1+prettyjws"

INDEX_TYPES = frozenset({OCI_INDEX, DOCKER_MANIFEST_LIST})
IMAGE_TYPES = frozenset({OCI_MANIFEST, DOCKER_MANIFEST})
MANIFEST_TYPES = INDEX_TYPES | IMAGE_TYPES

#: Every type pinbot understands, always all four: with a partial list distribution
#: answers a manifest list with its amd64 child, and with none it converts to schema1.
ACCEPT = ", ".join((OCI_INDEX, OCI_MANIFEST, DOCKER_MANIFEST_LIST, DOCKER_MANIFEST))

LABEL_VERSION = "org.opencontainers.image.version"
LABEL_REVISION = "org.opencontainers.image.revision"
LABEL_SOURCE = "org.opencontainers.image.source"
LABEL_BASE_NAME = "org.opencontainers.image.base.name"
LABEL_BASE_DIGEST = "org.opencontainers.image.base.digest"
LABEL_CREATED = "org.opencontainers.image.created"
ATTESTATION_TYPE_KEY = "vnd.docker.reference.type"

_HASHES = {"sha256": hashlib.sha256, "sha384": hashlib.sha384, "sha512": hashlib.sha512}

_ARCH_ALIASES = {
    "x86_64": "amd64",
    "x86-64": "amd64",
    "aarch64": "arm64",
    "armhf": "arm",
    "armel": "arm",
    "i386": "386",
    "i686": "386",
}


class ManifestError(PinbotError, ValueError):
    """Manifest bytes that are not a manifest pinbot can read."""


def is_digest(text: str) -> bool:
    """Whether `text` is a sha256, sha384 or sha512 digest in canonical form."""
    return is_valid_digest(text)


def digest_of(body: bytes, algorithm: str = "sha256") -> str:
    """The digest of `body` with the named algorithm.

    >>> digest_of(b"")
    'sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'
    """
    try:
        hasher = _HASHES[algorithm]
    except KeyError:
        raise ManifestError(f"unsupported digest algorithm {algorithm!r}") from None
    return f"{algorithm}:{hasher(body).hexdigest()}"


def content_matches(body: bytes, digest: str) -> tuple[bool, str]:
    """Whether `body` hashes to `digest`, and the digest it does hash to."""
    algorithm = digest.partition(":")[0]
    actual = digest_of(body, algorithm)
    return actual == digest, actual


def media_type_of(content_type: str | None, document: Mapping[str, Any] | None = None) -> str:
    """The manifest media type from `Content-Type` (without parameters), else the body."""
    if content_type:
        bare = content_type.split(";", 1)[0].strip().lower()
        if bare and bare not in ("application/json", "application/octet-stream", "text/plain"):
            return bare
    if document is not None:
        declared = document.get("mediaType")
        if isinstance(declared, str) and declared:
            return declared
        if isinstance(document.get("manifests"), list):
            return OCI_INDEX
        if isinstance(document.get("layers"), list):
            return OCI_MANIFEST
    return (content_type or "").split(";", 1)[0].strip().lower()


def parse_json(body: bytes) -> dict[str, Any]:
    try:
        document = json.loads(body)
    except ValueError as exc:
        raise ManifestError(f"not JSON: {exc}") from exc
    except RecursionError:
        raise ManifestError("JSON nested too deeply") from None
    if not isinstance(document, dict):
        raise ManifestError("not a JSON object")
    return document


@dataclass(frozen=True)
class Platform:
    """An OS/architecture/variant triple, normalised the way containerd does.

    >>> str(Platform.parse("linux/aarch64/v8"))
    'linux/arm64'
    >>> Platform.parse("linux/arm64") == Platform.parse("linux/arm64/v8")
    True
    """

    os: str
    architecture: str
    variant: str = ""

    def __post_init__(self) -> None:
        os_name = self.os.lower()
        arch = self.architecture.lower()
        variant = self.variant.lower()
        if arch == "armel" and not variant:
            variant = "v6"
        arch = _ARCH_ALIASES.get(arch, arch)
        if variant and variant[0].isdigit():
            variant = "v" + variant
        if (arch == "arm64" and variant in ("v8", "v8.0")) or (arch == "amd64" and variant == "v1"):
            variant = ""
        elif arch == "arm" and not variant:
            variant = "v7"
        object.__setattr__(self, "os", os_name)
        object.__setattr__(self, "architecture", arch)
        object.__setattr__(self, "variant", variant)

    @classmethod
    def parse(cls, text: str) -> Platform:
        parts = text.strip().split("/")
        if len(parts) not in (2, 3) or not all(parts):
            raise ValueError(f"invalid platform {text!r}: expected OS/ARCH[/VARIANT]")
        return cls(*parts)

    @classmethod
    def from_json(cls, data: object) -> Platform | None:
        if not isinstance(data, Mapping):
            return None
        os_name = data.get("os")
        arch = data.get("architecture")
        variant = data.get("variant") or ""
        if (
            not isinstance(os_name, str)
            or not isinstance(arch, str)
            or not isinstance(variant, str)
        ):
            return None
        return cls(os_name, arch, variant)

    @property
    def is_unknown(self) -> bool:
        return self.os == "unknown" and self.architecture == "unknown"

    def __str__(self) -> str:
        parts = [self.os, self.architecture] + ([self.variant] if self.variant else [])
        return "/".join(parts)


@dataclass(frozen=True)
class Descriptor:
    """A content descriptor as found in an index or manifest."""

    media_type: str
    digest: str
    size: int
    platform: Platform | None = None
    annotations: Mapping[str, str] = field(default_factory=dict)

    @property
    def is_attestation(self) -> bool:
        if self.annotations.get(ATTESTATION_TYPE_KEY) == "attestation-manifest":
            return True
        return self.platform is not None and self.platform.is_unknown

    @classmethod
    def from_json(cls, data: object) -> Descriptor:
        if not isinstance(data, Mapping):
            raise ManifestError("descriptor is not an object")
        digest = data.get("digest")
        media_type = data.get("mediaType") or ""
        size = data.get("size")
        if not isinstance(digest, str) or not is_digest(digest):
            raise ManifestError(f"descriptor has an invalid digest {digest!r}")
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            raise ManifestError(f"descriptor {digest} has an invalid size")
        annotations = data.get("annotations") or {}
        if not isinstance(annotations, Mapping):
            annotations = {}
        return cls(
            media_type=str(media_type),
            digest=digest,
            size=size,
            platform=Platform.from_json(data.get("platform")),
            annotations={str(k): str(v) for k, v in annotations.items()},
        )


def index_children(document: Mapping[str, Any]) -> list[Descriptor]:
    """Every entry of an index or manifest list, attestations included."""
    entries = document.get("manifests")
    if not isinstance(entries, list):
        raise ManifestError("index has no manifests list")
    return [Descriptor.from_json(entry) for entry in entries]


def image_children(children: Sequence[Descriptor]) -> list[Descriptor]:
    """The runnable images of an index: attestation manifests left out."""
    return [child for child in children if not child.is_attestation]


def select_platform(children: Sequence[Descriptor], wanted: Platform) -> Descriptor | None:
    """The first image entry whose normalised platform equals `wanted`."""
    for child in image_children(children):
        if child.platform is not None and child.platform == wanted:
            return child
    return None


def default_child(children: Sequence[Descriptor]) -> Descriptor | None:
    """The entry that stands for a multi-platform image in notes: linux/amd64, else the first."""
    images = image_children(children)
    linux_amd64 = Platform("linux", "amd64")
    for child in images:
        if child.platform == linux_amd64:
            return child
    return images[0] if images else None


def layers_size(document: Mapping[str, Any]) -> int | None:
    """The compressed size of an image: the sum of its layer sizes."""
    layers = document.get("layers")
    if not isinstance(layers, list):
        return None
    total = 0
    for layer in layers:
        size = layer.get("size") if isinstance(layer, Mapping) else None
        if not isinstance(size, int) or isinstance(size, bool):
            return None
        total += size
    return total


def config_descriptor(document: Mapping[str, Any]) -> Descriptor | None:
    config = document.get("config")
    if config is None:
        return None
    return Descriptor.from_json(config)


def _annotations(document: Mapping[str, Any]) -> dict[str, str]:
    found = document.get("annotations")
    if not isinstance(found, Mapping):
        return {}
    return {str(k): str(v) for k, v in found.items()}


def _parse_time(text: object) -> datetime | None:
    if not isinstance(text, str) or not text:
        return None
    value = text.strip()
    if value.endswith(("Z", "z")):
        value = value[:-1] + "+00:00"
    # Go writes up to nanoseconds; Python reads at most microseconds.
    match = re.match(r"^(.*T\d\d:\d\d:\d\d)(\.\d+)?(.*)$", value)
    if match and match.group(2):
        value = match.group(1) + match.group(2)[:7] + match.group(3)
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


@dataclass(frozen=True)
class ImageMetadata:
    """What the registry says about an image, for the notes of a pin or bump."""

    digest: str
    media_type: str
    created: datetime | None = None
    labels: Mapping[str, str] = field(default_factory=dict)
    annotations: Mapping[str, str] = field(default_factory=dict)
    platforms: tuple[str, ...] = ()
    size: int | None = None
    #: The platform the created time, labels and size were read from (for an index).
    platform: str | None = None

    def _get(self, key: str) -> str | None:
        return self.annotations.get(key) or self.labels.get(key) or None

    @property
    def version(self) -> str | None:
        return self._get(LABEL_VERSION)

    @property
    def revision(self) -> str | None:
        return self._get(LABEL_REVISION)

    @property
    def source(self) -> str | None:
        return self._get(LABEL_SOURCE)

    @property
    def base_name(self) -> str | None:
        return self._get(LABEL_BASE_NAME)

    @property
    def base_digest(self) -> str | None:
        return self._get(LABEL_BASE_DIGEST)


def build_metadata(
    *,
    digest: str,
    media_type: str,
    index: Mapping[str, Any] | None,
    manifest: Mapping[str, Any] | None,
    config: Mapping[str, Any] | None,
    platform: Platform | None = None,
) -> ImageMetadata:
    """Combine an (optional) index, one image manifest and its config into ImageMetadata.

    Annotations of the manifest win over those of the index; labels come from the config.
    """
    annotations: dict[str, str] = {}
    platforms: tuple[str, ...] = ()
    if index is not None:
        annotations.update(_annotations(index))
        platforms = tuple(
            str(child.platform)
            for child in image_children(index_children(index))
            if child.platform is not None
        )
    if manifest is not None:
        annotations.update(_annotations(manifest))
    labels: dict[str, str] = {}
    created = None
    if config is not None:
        inner = config.get("config")
        raw_labels = inner.get("Labels") if isinstance(inner, Mapping) else None
        if isinstance(raw_labels, Mapping):
            labels = {str(k): str(v) for k, v in raw_labels.items()}
        created = _parse_time(config.get("created"))
        if index is None:
            own = Platform.from_json(config)
            if own is not None:
                platforms = (str(own),)
                platform = own
    if created is None:
        created = _parse_time(annotations.get(LABEL_CREATED) or labels.get(LABEL_CREATED))
    return ImageMetadata(
        digest=digest,
        media_type=media_type,
        created=created,
        labels=labels,
        annotations=annotations,
        platforms=platforms,
        size=layers_size(manifest) if manifest is not None else None,
        platform=str(platform) if platform is not None else None,
    )
