"""SBOM package lists (SPDX 2.x JSON, CycloneDX JSON) and the package diff between two builds.

Pure: `parse_sbom` turns an SBOM predicate into a `PackageSet`; `diff_packages` compares two
and orders the changes by importance (version changes of system and runtime packages first),
keeping totals so a note can show the first few and say how many there are.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from pinbot.supplychain._fields import SupplyChainError, objects, string
from pinbot.supplychain.attestations import CYCLONEDX_PREFIX, SPDX_PREFIX

#: Packages read from one SBOM at most; a real image has a few thousand.
MAX_PACKAGES = 50_000
MAX_COMPONENT_DEPTH = 16
_PURL_TYPE = re.compile(r"^pkg:(?P<type>[a-zA-Z][a-zA-Z0-9.+-]{0,31})/")
_SYSTEM_TYPES = frozenset({"apk", "deb", "rpm", "alpm", "alpine", "debian"})
#: Packages a reviewer looks for first: crypto, libc, compression, shells, runtimes.
_NOTABLE = frozenset(
    {
        "openssl", "libssl3", "libssl1.1", "libcrypto3", "openssl-libs", "gnutls", "libgnutls30",
        "glibc", "libc6", "libc-bin", "musl", "zlib", "zlib1g", "xz-utils", "liblzma5", "curl",
        "libcurl4", "openssh", "openssh-client", "ca-certificates", "busybox", "bash", "sudo",
        "python", "python3", "nodejs", "node", "openjdk", "go", "stdlib", "nginx", "systemd",
    }
)  # fmt: skip


#: A package as the OSV API names it: (ecosystem, name), e.g. ("Alpine:v3.19", "openssl").
OsvName = tuple[str, str]


@dataclass(frozen=True, order=True)
class Package:
    """One package as an SBOM lists it; `kind` is the package URL type (`deb`, `npm`, …).

    `osv` is how the OSV API names it, read from its package URL when that says enough (an
    OS package needs its distribution release); it takes no part in comparisons.
    """

    kind: str
    name: str
    version: str
    osv: OsvName | None = field(default=None, compare=False)


@dataclass(frozen=True)
class PackageSet:
    """The packages of one build, from its SBOM."""

    format: str  # "SPDX" or "CycloneDX"
    packages: frozenset[Package]
    truncated: bool = False


@dataclass(frozen=True)
class PackageChange:
    """One difference between two package lists; `old`/`new` are None for added/removed."""

    kind: str
    name: str
    old: str | None
    new: str | None
    osv: OsvName | None = field(default=None, compare=False)

    @property
    def change(self) -> str:
        if self.old is None:
            return "added"
        if self.new is None:
            return "removed"
        return "changed"


@dataclass(frozen=True)
class PackageDiff:
    """Every change, most important first, with totals per kind of change."""

    changes: tuple[PackageChange, ...]
    added: int
    removed: int
    changed: int

    @property
    def total(self) -> int:
        return len(self.changes)


def _purl_type(purl: str | None) -> str:
    if purl is None:
        return ""
    match = _PURL_TYPE.match(purl)
    return unquote(match.group("type")).lower() if match else ""


#: Package URL types whose OSV ecosystem needs nothing more than the type.
_OSV_ECOSYSTEMS = {
    "npm": "npm", "pypi": "PyPI", "golang": "Go", "maven": "Maven", "cargo": "crates.io",
    "gem": "RubyGems", "nuget": "NuGet", "composer": "Packagist", "hex": "Hex", "pub": "Pub",
}  # fmt: skip
#: Distribution qualifiers (`distro=alpine-3.19.1`, `debian-12`, `ubuntu-22.04`) to ecosystems.
_OSV_DISTROS = (
    (re.compile(r"^(?:alpine-)?(\d+)\.(\d+)(?:\.\d+)?$"), "apk", "Alpine:v{0}.{1}"),
    (re.compile(r"^debian-(\d+)(?:\.\d+)?$"), "deb", "Debian:{0}"),
    (re.compile(r"^ubuntu-(\d+\.\d+)$"), "deb", "Ubuntu:{0}"),
)
_PURL = re.compile(
    r"^pkg:(?P<type>[A-Za-z][A-Za-z0-9.+-]{0,31})/(?P<path>[^@?#]+)(?:@[^?#]*)?"
    r"(?:\?(?P<qualifiers>[^#]*))?"
)


def osv_name(purl: str | None) -> OsvName | None:
    """How the OSV API names the package a package URL identifies, when it can tell.

    >>> osv_name("pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1")
    ('Maven', 'org.apache.logging.log4j:log4j-core')
    >>> osv_name("pkg:apk/alpine/openssl@3.0.13-r0?arch=x86_64&distro=alpine-3.19.1")
    ('Alpine:v3.19', 'openssl')
    >>> osv_name("pkg:deb/debian/libc6@2.36-9") is None  # which Debian release?
    True
    """
    match = _PURL.match(purl or "")
    if match is None:
        return None
    kind = match.group("type").lower()
    *namespace, name = [unquote(part) for part in match.group("path").strip("/").split("/")]
    if not name:
        return None
    if kind in _OSV_ECOSYSTEMS:
        if kind == "maven":
            return ("Maven", f"{'.'.join(namespace)}:{name}") if namespace else None
        if kind in ("npm", "golang", "composer") and namespace:
            name = "/".join([*namespace, name])
        return _OSV_ECOSYSTEMS[kind], name
    qualifiers = dict(
        part.partition("=")[::2] for part in (match.group("qualifiers") or "").split("&")
    )
    distro = unquote(qualifiers.get("distro", "")).lower()
    for pattern, distro_kind, ecosystem in _OSV_DISTROS:
        found = pattern.match(distro)
        if found and kind == distro_kind:
            return ecosystem.format(*found.groups()), name
    return None


def _spdx_purl(package: Mapping[str, Any]) -> str | None:
    for ref in objects(package, "externalRefs", 32):
        if string(ref, "referenceType") == "purl":
            return string(ref, "referenceLocator", limit=2048)
    return None


def _spdx(document: Mapping[str, Any]) -> tuple[list[Package], bool]:
    out = []
    entries = document.get("packages")
    truncated = isinstance(entries, list) and len(entries) > MAX_PACKAGES
    for package in objects(document, "packages", MAX_PACKAGES):
        name = string(package, "name", limit=256)
        version = string(package, "versionInfo", limit=256)
        if name is None or version is None:
            continue  # the document itself, files and directories carry no version
        purl = _spdx_purl(package)
        out.append(Package(_purl_type(purl), name, version, osv_name(purl)))
    return out, truncated


def _cyclonedx(document: Mapping[str, Any]) -> tuple[list[Package], bool]:
    out: list[Package] = []
    pending: list[tuple[Mapping[str, Any], int]] = [(document, 0)]
    truncated = False
    while pending:
        holder, depth = pending.pop()
        for component in objects(holder, "components", MAX_PACKAGES):
            if len(out) >= MAX_PACKAGES:
                return out, True
            name = string(component, "name", limit=256)
            version = string(component, "version", limit=256)
            if name and version:
                group = string(component, "group", limit=256)
                full = f"{group}/{name}" if group else name
                purl = string(component, "purl", limit=2048)
                out.append(Package(_purl_type(purl), full, version, osv_name(purl)))
            if depth + 1 < MAX_COMPONENT_DEPTH:
                pending.append((component, depth + 1))
            else:
                truncated = True
    return out, truncated


def parse_sbom(predicate_type: str, predicate: Mapping[str, Any]) -> PackageSet:
    """The packages an SPDX or CycloneDX predicate lists; `SupplyChainError` if neither."""
    if predicate_type.startswith(SPDX_PREFIX) or string(predicate, "spdxVersion"):
        if not (string(predicate, "spdxVersion") or "").startswith("SPDX-2."):
            raise SupplyChainError("SBOM is not SPDX 2.x JSON")
        packages, truncated = _spdx(predicate)
        return PackageSet("SPDX", frozenset(packages), truncated)
    if predicate_type.startswith(CYCLONEDX_PREFIX) or string(predicate, "bomFormat"):
        if string(predicate, "bomFormat") != "CycloneDX":
            raise SupplyChainError("SBOM is not CycloneDX JSON")
        packages, truncated = _cyclonedx(predicate)
        return PackageSet("CycloneDX", frozenset(packages), truncated)
    raise SupplyChainError("predicate is neither SPDX nor CycloneDX")


def _versions(
    packages: Iterable[Package], osv: dict[tuple[str, str], OsvName]
) -> dict[tuple[str, str], set[str]]:
    """Versions by (kind, name); `osv` gathers the OSV name of each (kind, name) that has one."""
    table: dict[tuple[str, str], set[str]] = {}
    for package in packages:
        table.setdefault((package.kind, package.name), set()).add(package.version)
        if package.osv is not None:
            osv.setdefault((package.kind, package.name), package.osv)
    return table


def _importance(change: PackageChange) -> tuple[int, int, int, str, str]:
    order = {"changed": 0, "removed": 1, "added": 2}[change.change]
    notable = 0 if change.name.lower() in _NOTABLE else 1
    system = 0 if change.kind in _SYSTEM_TYPES else 1
    return (notable, order, system, change.name.lower(), change.kind)


def diff_packages(old: PackageSet, new: PackageSet) -> PackageDiff:
    """What changed from `old` to `new`: version changes, added and removed packages.

    A package is its (kind, name); when a name has several versions on one side, each
    version only on one side counts as added or removed.
    """
    osv: dict[tuple[str, str], OsvName] = {}
    after = _versions(new.packages, osv)
    before = _versions(old.packages, osv)
    changes: list[PackageChange] = []
    for key in before.keys() | after.keys():
        kind, name = key
        known = osv.get(key)
        gone = sorted(before.get(key, set()) - after.get(key, set()))
        came = sorted(after.get(key, set()) - before.get(key, set()))
        if len(gone) == 1 and len(came) == 1:
            changes.append(PackageChange(kind, name, gone[0], came[0], known))
            continue
        changes.extend(PackageChange(kind, name, version, None, known) for version in gone)
        changes.extend(PackageChange(kind, name, None, version, known) for version in came)
    changes.sort(key=_importance)
    counts = {"added": 0, "removed": 0, "changed": 0}
    for change in changes:
        counts[change.change] += 1
    return PackageDiff(tuple(changes), counts["added"], counts["removed"], counts["changed"])
