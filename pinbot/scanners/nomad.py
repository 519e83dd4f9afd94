"""Image references in Nomad job specifications (HCL): the `image` a Docker or Podman task
runs, in `config { image = "…" }`.

Every block with a ``driver`` of ``docker`` or ``podman`` is read: ``task`` blocks and the
``sidecar_task`` of a Connect sidecar alike, the ``driver`` written before or after ``config``.
A Podman image may carry the ``docker://`` transport, which is skipped; other transports
(``oci-archive:``, ``docker-archive:``, ``containers-storage:``) name no registry image and
are not reported. A value built with interpolation (``"redis:${var.tag}"``) or a Levant or
Nomad Pack template (``"[[ .image ]]"``) is reported as templated; one written with escapes is
reported and not rewritten. Other drivers (``exec``, ``java``, ``raw_exec``) run no image.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from pinbot.scanners._hcl import MAX_NESTING, Token, TokenReader, decode
from pinbot.scanners._paths import path_name
from pinbot.scanners.interface import Finding

__all__ = ["SCANNER", "NomadScanner"]

CONTAINER_DRIVERS = frozenset({"docker", "podman"})
_PODMAN_REGISTRY = "docker://"
_OTHER_TRANSPORTS = ("oci-archive:", "docker-archive:", "containers-storage:", "oci:", "dir:")


@dataclass
class _Block:
    kind: str
    labels: list[str]
    attributes: dict[str, Token | None] = field(default_factory=dict)
    blocks: list[_Block] = field(default_factory=list)


class _JobReader(TokenReader):
    """Blocks and their one-token attributes; any other expression is skipped."""

    def read(self) -> _Block:
        root = _Block("", [])
        self.body(root, 0)
        self.expect_end()
        return root

    def body(self, block: _Block, depth: int) -> None:
        if depth > MAX_NESTING:
            self.fail("blocks nested too deeply")
        while True:
            while self.peek().kind == "nl":
                self.position += 1
            token = self.peek()
            if token.kind == "eof" or self.is_punct("}"):
                return
            if token.kind != "ident":
                self.fail(f"expected an attribute or block, found {token.text!r}")
            if self.is_punct("=", 1):
                self.position += 2
                block.attributes[token.text] = self.value()
                continue
            self.position += 1
            labels: list[str] = []
            while self.peek().kind in ("string", "ident"):
                labels.append(self.peek().text.strip('"'))
                self.position += 1
            if not self.is_punct("{"):
                self.fail(f"expected '{{' after block {token.text}")
            self.position += 1
            child = _Block(token.text, labels)
            self.body(child, depth + 1)
            if not self.is_punct("}"):
                self.fail(f"block {token.text} is not closed")
            self.position += 1
            block.blocks.append(child)

    def value(self) -> Token | None:
        """The token of a value that is one string; None for any other expression."""
        token = self.peek()
        following = self.peek(1)
        if token.kind == "string" and (
            following.kind in ("nl", "eof") or self.is_punct("}", 1) or self.is_punct(",", 1)
        ):
            self.position += 1
            return token
        self.skip_expression()
        return None


def _string_value(token: Token | None) -> str | None:
    if token is None:
        return None
    raw = token.text[1:-1]
    return decode(raw) if token.escaped else raw


def _walk(block: _Block, path: str) -> Iterator[tuple[_Block, str]]:
    for child in block.blocks:
        here = f"{path} {child.kind}" + "".join(f' "{label}"' for label in child.labels)
        yield child, here.strip()
        yield from _walk(child, here)


def _image_finding(token: Token, context: str) -> Finding | None:
    value = _string_value(token)
    if value is None:
        return None
    skip = 0
    if value.startswith(_PODMAN_REGISTRY):
        skip = len(_PODMAN_REGISTRY)
    elif value.startswith(_OTHER_TRANSPORTS) or not value.strip():
        return None
    start, end = token.start + 1, token.end - 1
    templated = "${" in value or "%{" in value or "[[" in value
    if token.escaped:
        return Finding(
            start,
            end,
            context,
            reference_text=value[skip:],
            templated=templated,
            rewritable=False,
            note="written with escape sequences; pin it by hand",
        )
    return Finding(start + skip, end, context, templated=templated)


class NomadScanner:
    kind = "nomad"

    def matches(self, path: str) -> bool:
        return path_name(path).lower().endswith((".nomad", ".nomad.hcl"))

    def scan(self, path: str, text: str) -> Iterator[Finding]:
        root = _JobReader(text).read()
        findings: list[Finding] = []
        for block, context in _walk(root, ""):
            if _string_value(block.attributes.get("driver")) not in CONTAINER_DRIVERS:
                continue
            for config in block.blocks:
                image = config.attributes.get("image") if config.kind == "config" else None
                if image is not None:
                    found = _image_finding(image, f"{context} config.image")
                    if found is not None:
                        findings.append(found)
        return iter(sorted(findings, key=lambda f: f.start))


SCANNER = NomadScanner()
