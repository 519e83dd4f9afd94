"""Supply-chain notes for a digest bump: provenance, package diff and signature, as data and
as Markdown lines for the pull request's notes.

Pure: `compare` turns the findings for the old and new digest into a `SupplyChainNote`;
`render` gives one Markdown line per fact, every outside string through `pinbot.report.escape`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pinbot.notes import github_repository, short_digest
from pinbot.report.escape import code, text
from pinbot.supplychain.findings import ImageFindings, signature_check
from pinbot.supplychain.osv import VulnerabilityDelta
from pinbot.supplychain.provenance import Provenance
from pinbot.supplychain.sbom import PackageChange, PackageDiff, diff_packages
from pinbot.supplychain.signatures import PublicKey, SignatureCheck, SignatureStatus

if TYPE_CHECKING:  # the gate stage renders with this module
    from pinbot.supplychain.stage import HeldDigest

#: Package changes named in the note; the rest are counted.
SHOWN_PACKAGES = 5
#: Vulnerability ids named per line; the rest are counted.
SHOWN_VULNERABILITIES = 5
_HEX_COMMIT = re.compile(r"^[0-9a-f]{40}(?:[0-9a-f]{24})?$")


@dataclass(frozen=True)
class BaseImageChange:
    """A base image of the provenance materials whose digest differs between the builds."""

    name: str
    old_digest: str | None
    new_digest: str | None


@dataclass(frozen=True)
class ProvenanceNote:
    """Where the new build came from, and what moved since the old one."""

    source: str | None
    old_source: str | None
    old_commit: str | None
    new_commit: str | None
    compare_url: str | None
    builder: str | None
    old_builder: str | None
    trigger: str | None
    base_changes: tuple[BaseImageChange, ...] = ()
    base_unchanged: tuple[str, ...] = ()


@dataclass(frozen=True)
class PackageNote:
    """The package diff, or why there is none (one side has no SBOM)."""

    format: str
    diff: PackageDiff | None
    missing: str | None = None


@dataclass(frozen=True)
class SupplyChainNote:
    provenance: ProvenanceNote | None
    packages: PackageNote | None
    signature: SignatureCheck
    problems: tuple[str, ...] = ()
    vulnerabilities: VulnerabilityDelta | None = None  # with `notes.vulnerabilities: osv`


def _compare_url(old: Provenance | None, new: Provenance) -> str | None:
    if old is None or not (old.commit and new.commit) or old.commit == new.commit:
        return None
    before, after = github_repository(old.source), github_repository(new.source)
    if before is None or before != after:
        return None
    if not (_HEX_COMMIT.match(old.commit) and _HEX_COMMIT.match(new.commit)):
        return None
    return f"https://github.com/{after}/compare/{old.commit}...{new.commit}"


def _provenance_note(old: Provenance | None, new: Provenance) -> ProvenanceNote:
    before = {image.name: image.digest for image in (old.base_images if old else ())}
    changes, unchanged = [], []
    for image in new.base_images:
        if image.name not in before:
            continue
        if before[image.name] == image.digest:
            unchanged.append(image.name)
        else:
            changes.append(BaseImageChange(image.name, before[image.name], image.digest))
    return ProvenanceNote(
        source=new.source,
        old_source=old.source if old else None,
        old_commit=old.commit if old else None,
        new_commit=new.commit,
        compare_url=_compare_url(old, new),
        builder=new.builder,
        old_builder=old.builder if old else None,
        trigger=new.trigger,
        base_changes=tuple(changes),
        base_unchanged=tuple(unchanged),
    )


def _package_note(old: ImageFindings | None, new: ImageFindings) -> PackageNote | None:
    if new.packages is None:
        return None
    if old is None:
        return PackageNote(new.packages.format, None, missing="first pin")
    if old.packages is None:
        return PackageNote(new.packages.format, None, missing="the old build has no SBOM")
    return PackageNote(new.packages.format, diff_packages(old.packages, new.packages))


def compare(
    old: ImageFindings | None, new: ImageFindings, key: PublicKey | None = None
) -> SupplyChainNote:
    """What changed in provenance and packages from `old` to `new`, and `new`'s signature."""
    provenance = None
    if new.provenance is not None:
        provenance = _provenance_note(old.provenance if old else None, new.provenance)
    return SupplyChainNote(
        provenance=provenance,
        packages=_package_note(old, new),
        signature=signature_check(new, key),
        problems=new.problems,
    )


# --- Markdown -------------------------------------------------------------------------------


def _source_text(source: str) -> str:
    repository = github_repository(source)
    if repository:
        return f"[{code(repository)}](https://github.com/{repository})"
    return code(source)


def _commit_text(commit: str, source: str | None) -> str:
    repository = github_repository(source)
    if repository and _HEX_COMMIT.match(commit):
        return f"[{code(commit[:7])}](https://github.com/{repository}/commit/{commit})"
    return code(commit[:12])


def _provenance_lines(note: ProvenanceNote) -> list[str]:
    lines = []
    if note.source:
        line = f"provenance: built from {_source_text(note.source)}"
        if note.old_source and note.old_source != note.source:
            line += f" (was {_source_text(note.old_source)})"
        if note.new_commit and note.old_commit and note.old_commit != note.new_commit:
            line += (
                f" commit {_commit_text(note.old_commit, note.old_source)} → "
                f"{_commit_text(note.new_commit, note.source)}"
            )
        elif note.new_commit:
            same = " (unchanged)" if note.old_commit == note.new_commit else ""
            line += f" commit {_commit_text(note.new_commit, note.source)}{same}"
        if note.compare_url:
            line += f" ([compare]({note.compare_url}))"
        lines.append(line)
    builder = f"builder {code(note.builder)}" if note.builder else ""
    if note.builder and note.old_builder and note.old_builder != note.builder:
        builder = f"builder {code(note.old_builder)} → {code(note.builder)}"
    trigger = f"trigger {code(note.trigger)}" if note.trigger else ""
    if builder or trigger:
        lines.append("; ".join(part for part in (builder, trigger) if part))
    for change in note.base_changes:
        lines.append(
            f"base image {code(change.name)} changed (provenance): "
            f"{code(short_digest(change.old_digest))} → {code(short_digest(change.new_digest))}"
        )
    if note.base_unchanged:
        names = ", ".join(code(name) for name in note.base_unchanged)
        lines.append(f"base image {names} unchanged (provenance)")
    return lines


def _change_text(change: PackageChange) -> str:
    if change.old is not None and change.new is not None:
        return f"{code(change.name)} {code(change.old)} → {code(change.new)}"
    if change.new is not None:
        return f"{code(change.name)} {code(change.new)} added"
    return f"{code(change.name)} {code(change.old or '')} removed"


def _package_line(note: PackageNote) -> str:
    head = f"packages ({note.format} SBOM)"
    if note.diff is None:
        return f"{head}: {text(note.missing or 'no diff')}"
    diff = note.diff
    if diff.total == 0:
        return f"{head}: no package changed"
    shown = ", ".join(_change_text(change) for change in diff.changes[:SHOWN_PACKAGES])
    parts = [
        f"{count} {word}"
        for count, word in (
            (diff.changed, "updated"),
            (diff.added, "added"),
            (diff.removed, "removed"),
        )
        if count
    ]
    noun = "package" if diff.total == 1 else "packages"
    return f"{head}: {shown}; {diff.total} {noun} changed ({', '.join(parts)})"


def signature_line(check: SignatureCheck) -> str:
    """`signature: …` — verified with which key and on what, or why not."""
    kinds = " and ".join(text(str(kind)) for kind in check.kinds) or "no"
    where = f" on {check.scope}" if check.scope else ""
    if check.status is SignatureStatus.VERIFIED:
        return (
            f"signature: {kinds} signature verified with {code(check.signer or 'the key')}{where}"
        )
    if check.status is SignatureStatus.UNSIGNED:
        detail = f" ({text(check.detail)})" if check.scope and check.detail else ""
        return f"signature: none found{detail}"
    if check.status is SignatureStatus.UNVERIFIED:
        return f"signature: {kinds} signature found{where}, not verified ({text(check.detail)})"
    return f"signature: **invalid**{where}: {text(check.detail)}"


def _ids_text(ids: tuple[str, ...]) -> str:
    shown = ", ".join(code(i) for i in ids[:SHOWN_VULNERABILITIES])
    more = len(ids) - SHOWN_VULNERABILITIES
    return shown + (f" and {more} more" if more > 0 else "")


def vulnerability_line(delta: VulnerabilityDelta) -> str:
    """`vulnerabilities (OSV): 2 fixed (…), 1 introduced (…)`, or why OSV was not heard."""
    head = "vulnerabilities (OSV)"
    if delta.error is not None:
        return f"{head}: not checked ({text(delta.error)})"
    parts = []
    if delta.fixed:
        parts.append(f"{len(delta.fixed)} fixed ({_ids_text(delta.fixed)})")
    if delta.introduced:
        parts.append(f"**{len(delta.introduced)} introduced** ({_ids_text(delta.introduced)})")
    if parts:
        line = f"{head}: {', '.join(parts)}"
    elif delta.asked:
        line = f"{head}: none known fixed or introduced ({delta.asked} package versions asked)"
    else:
        line = f"{head}: no changed package OSV can be asked about"
    if delta.unknown:
        noun = "package" if delta.unknown == 1 else "packages"
        line += f"; {delta.unknown} changed {noun} not asked (no OSV ecosystem in the SBOM)"
    return line


def render(note: SupplyChainNote) -> list[str]:
    """The note as Markdown lines, one fact each, for a notes block's list."""
    lines = []
    if note.provenance is not None:
        lines += _provenance_lines(note.provenance)
    if note.packages is not None:
        lines.append(_package_line(note.packages))
    if note.vulnerabilities is not None:
        lines.append(vulnerability_line(note.vulnerabilities))
    lines.append(signature_line(note.signature))
    if note.problems:
        shown = "; ".join(note.problems[:3])
        more = f" (and {len(note.problems) - 3} more)" if len(note.problems) > 3 else ""
        lines.append(f"supply-chain data partly unreadable: {text(shown)}{more}")
    return lines


def held_back_line(image: str, digest: str, rule: str, reason: str) -> str:
    """The Markdown line for a digest the trust gate did not let through."""
    return f"held back {code(f'{image}@{short_digest(digest)}')}: {text(rule)} — {text(reason)}"


def held_back_comment(held: Sequence[HeldDigest]) -> str:
    """The comment on a pull request closed because what it would propose now failed the
    trust gate: each digest held back, with its rule and reason."""
    lines = [
        "The digests this pull request would propose now did not pass the trust gate "
        "(`verify:` in pinbot's configuration), so pinbot closed it and deleted its branch. "
        "It proposes the next digest of the tag that passes.",
        "",
    ]
    seen = set()
    for found in held:
        image = found.edit.image if found.edit is not None else found.reference
        line = held_back_line(image, found.digest, found.rule.value, found.reason)
        if line not in seen:
            seen.add(line)
            lines.append(f"- {line}")
    return "\n".join(lines)
