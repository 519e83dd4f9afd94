"""Image references in dev container configurations: the `image` and the OCI Features.

`devcontainer.json` is JSON with comments and trailing commas; it is read by the JSONC reader
(`_jsonc`) that keeps the position of every string, so spans point into the file as written.

What is reported: the top-level ``image`` string, and each key of the top-level
``features`` map that is an OCI reference (a registry host, then a path; Features are OCI
artifacts and resolve to digests like images). The dev container CLI accepts a Feature as
``name:tag`` or ``name@sha256:…`` but rejects ``name:tag@sha256:…``, so a tagged Feature is
reported with ``rewritable=False``: pinning it means replacing the tag, and a
``devcontainer-lock.json`` beside the file then needs regenerating. Local Features (``./x``), tarball URLs and
the legacy short ids (``node``) are not references. ``build.dockerfile`` names a Dockerfile
(the Dockerfile scanner reads it) and ``dockerComposeFile`` names Compose files (read by the
Compose scanner). ``build.cacheFrom`` images are cache sources, not inputs to pin.
``devcontainer-template.json`` holds template options (tag fragments such as
``3.14-trixie``), never whole references, so it is not read.
"""

from __future__ import annotations

from collections.abc import Iterator

from pinbot.scanners._jsonc import JsonObject, JsonString, parse_jsonc
from pinbot.scanners._paths import path_parts
from pinbot.scanners._strings import string_finding
from pinbot.scanners.interface import Finding

__all__ = ["SCANNER", "DevcontainerScanner", "is_feature_reference"]


def is_feature_reference(key: str) -> bool:
    """Whether a `features` key is an OCI reference rather than a local path, URL or short id."""
    if key.startswith((".", "/")) or "://" in key:
        return False
    host, slash, _ = key.partition("/")
    return bool(slash) and ("." in host or ":" in host or host == "localhost")


def _has_tag(reference: str) -> bool:
    name = reference.split("@", 1)[0]
    return ":" in name.rsplit("/", 1)[-1]


def _feature_finding(key: JsonString) -> Finding:
    finding = string_finding(key, "features")
    if finding.rewritable and "@" not in key.value and _has_tag(key.value):
        # The dev container CLI reads `name@sha256:…` or `name:tag`, never both: with a tag
        # before the digest it rejects the Feature. Pinning means dropping the tag.
        return Finding(
            key.start,
            key.end,
            "features",
            rewritable=False,
            note="Features take name@sha256:… without a tag; replace the tag by the digest by hand",
        )
    return finding


class DevcontainerScanner:
    kind = "devcontainer"

    def matches(self, path: str) -> bool:
        parts = path_parts(path)
        if not parts:
            return False
        if parts[-1] == ".devcontainer.json":
            return True
        return parts[-1] == "devcontainer.json" and ".devcontainer" in parts[-3:-1]

    def scan(self, path: str, text: str) -> Iterator[Finding]:
        root = parse_jsonc(text)
        if not isinstance(root, JsonObject):
            return
        image = root.get("image")
        if isinstance(image, JsonString) and image.value.strip():
            yield string_finding(image, "image")
        features = root.get("features")
        if isinstance(features, JsonObject):
            for key, _options in features.members:
                if is_feature_reference(key.value):
                    yield _feature_finding(key)


SCANNER = DevcontainerScanner()
