"""Image references in Docker Bake files (`docker-bake.hcl`, `docker-bake.json`): build inputs.

Bake describes builds; what a build pulls is what gets pinned, never what it pushes.

What is reported, per ``target``:

- ``contexts``: a named context ``docker-image://REF`` replaces ``FROM name`` / ``--from=name``
  in the Dockerfile with that image, so REF (after the scheme) is an image reference. Other
  context kinds (local directories, ``target:``, Git and HTTP URLs, ``oci-layout://``) are not.
- ``args`` whose name says it carries an image (``BASE_IMAGE``, ``RUNNER_IMAGE``, ``BASE``,
  ``GO_BASE``): Dockerfiles feed these to ``FROM $ARG``. A literal value is reported when it
  parses as a reference; a value built from variables is reported as templated.
- ``dockerfile-inline``: the inline Dockerfile is read by the Dockerfile scanner.

A value that is exactly one variable (``"${BASE}"``, ``BASE``, ``"docker-image://${BASE}"``)
is followed to the variable's ``default`` (a ``variable`` block or a top-level attribute),
and that default is reported where it is written. A default that is also used elsewhere is
reported with ``rewritable=False``: changing it changes more than that image.

Not reported: ``tags`` (outputs), ``cache-from``/``cache-to`` (cache locations), ``output``,
``platforms``, matrix values and any variable not used as a whole image.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from pinbot.reference import InvalidReference, parse_normalized
from pinbot.scanners._hcl import MAX_NESTING, Token, TokenReader, decode, decode_with_offsets
from pinbot.scanners._jsonc import JsonObject, JsonString, parse_jsonc
from pinbot.scanners._paths import path_name
from pinbot.scanners._strings import ESCAPED, WrittenString, string_finding
from pinbot.scanners.interface import Finding, Scanner

__all__ = ["BakeScanner", "is_image_arg"]

DOCKER_IMAGE_SCHEME = "docker-image://"
_IMAGE_ARG = re.compile(r"image|(?:^|_)base(?:$|_)", re.IGNORECASE)
_SINGLE_VARIABLE = re.compile(r"\$\{\s*([A-Za-z_][A-Za-z0-9_-]*)\s*\}")


def is_image_arg(name: str) -> bool:
    """Whether a build argument's name says it holds an image reference.

    >>> [is_image_arg(n) for n in ("BASE_IMAGE", "base", "GO_BASE", "BASEDIR", "GO_VERSION")]
    [True, True, True, False, False]
    """
    return _IMAGE_ARG.search(name) is not None


@dataclass(frozen=True)
class _Variable:
    """A value that is a bare reference to a variable (`BASE`)."""

    name: str


_Value = WrittenString | _Variable | None


@dataclass
class _Entry:
    target: str
    attribute: str  # "args", "contexts" or "dockerfile-inline"
    key: str
    value: _Value


@dataclass
class _BakeFile:
    variables: dict[str, _Value] = field(default_factory=dict)
    entries: list[_Entry] = field(default_factory=list)


# -- HCL ------------------------------------------------------------------------------


class _HclReader(TokenReader):
    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.bake = _BakeFile()

    def read(self) -> _BakeFile:
        self.body(block=None, depth=0)
        self.expect_end()
        return self.bake

    def skip_newlines(self) -> None:
        while self.peek().kind == "nl":
            self.position += 1

    def body(self, block: tuple[str, str] | None, depth: int) -> None:
        """Attributes and blocks up to a closing brace or the end of the file."""
        if depth > MAX_NESTING:
            self.fail("blocks nested too deeply")
        while True:
            self.skip_newlines()
            token = self.peek()
            if token.kind == "eof" or (token.kind == "punct" and token.text == "}"):
                return
            if token.kind != "ident":
                self.fail(f"expected an attribute or block, found {token.text!r}")
            following = self.peek(1)
            if following.kind == "punct" and following.text == "=":
                self.position += 2
                self.attribute(block, token.text)
                continue
            self.position += 1
            labels: list[str] = []
            while self.peek().kind in ("string", "ident"):
                labels.append(_unquote_label(self.peek()))
                self.position += 1
            opening = self.peek()
            if opening.kind != "punct" or opening.text != "{":
                self.fail(f"expected '{{' after block {token.text}")
            self.position += 1
            self.body((token.text, labels[0] if labels else ""), depth + 1)
            closing = self.peek()
            if closing.kind != "punct" or closing.text != "}":
                self.fail(f"block {token.text} is not closed")
            self.position += 1

    def attribute(self, block: tuple[str, str] | None, name: str) -> None:
        if block is None:
            self.bake.variables[name] = self.simple_value()
        elif block[0] == "variable" and name == "default":
            self.bake.variables[block[1]] = self.simple_value()
        elif block[0] == "target" and name in ("args", "contexts"):
            if self.peek().kind == "punct" and self.peek().text == "{":
                for key, value in self.object_items():
                    self.bake.entries.append(_Entry(block[1], name, key, value))
                return
        elif block[0] == "target" and name == "dockerfile-inline":
            token = self.peek()
            value = self.simple_value()
            if token.kind == "heredoc" and token.body is not None:
                start, end = token.body
                value = WrittenString(start, end, self.text[start:end], False)
            self.bake.entries.append(_Entry(block[1], name, "", value))
            return
        self.skip_expression(",")

    def simple_value(self) -> _Value:
        """A value that is one string or one variable name, else None (the expression is skipped)."""
        token = self.peek()
        following = self.peek(1)
        ends = following.kind in ("nl", "eof") or (
            following.kind == "punct" and following.text in ",}"
        )
        if ends and token.kind in ("string", "heredoc", "ident"):
            self.position += 1
            if token.kind == "string":
                return _string_text(self.text, token)
            if token.kind == "ident" and token.text not in ("true", "false", "null"):
                return _Variable(token.text)
            return None
        self.skip_expression(",")
        return None

    def object_items(self) -> Iterator[tuple[str, _Value]]:
        self.position += 1  # the opening brace
        while True:
            while self.peek().kind == "nl" or (
                self.peek().kind == "punct" and self.peek().text == ","
            ):
                self.position += 1
            token = self.peek()
            if token.kind == "punct" and token.text == "}":
                self.position += 1
                return
            if token.kind == "eof":
                self.fail("object is not closed")
            if token.kind in ("ident", "string"):
                key = _unquote_label(token)
                self.position += 1
            else:
                key = ""
                self.skip_expression(",=:")
            separator = self.peek()
            if separator.kind != "punct" or separator.text not in "=:":
                self.fail("expected '=' or ':' in an object")
            self.position += 1
            yield key, self.simple_value()


def _unquote_label(token: Token) -> str:
    if token.kind == "string":
        return decode(token.text[1:-1]) if token.escaped else token.text[1:-1]
    return token.text


def _string_text(text: str, token: Token) -> WrittenString:
    start, end = token.start + 1, token.end - 1
    raw = text[start:end]
    return WrittenString(start, end, decode(raw) if token.escaped else raw, token.escaped)




# -- JSON -----------------------------------------------------------------------------


def _read_json(text: str) -> _BakeFile:
    bake = _BakeFile()
    root = parse_jsonc(text)
    if not isinstance(root, JsonObject):
        return bake
    variables = root.get("variable")
    if isinstance(variables, JsonObject):
        for name, block in variables.members:
            default = block.get("default") if isinstance(block, JsonObject) else None
            bake.variables[name.value] = _json_text(default)
    targets = root.get("target")
    if isinstance(targets, JsonObject):
        for name, block in targets.members:
            if not isinstance(block, JsonObject):
                continue
            for attribute in ("args", "contexts"):
                items = block.get(attribute)
                if isinstance(items, JsonObject):
                    for key, value in items.members:
                        bake.entries.append(
                            _Entry(name.value, attribute, key.value, _json_text(value))
                        )
            inline = block.get("dockerfile-inline")
            if inline is not None:
                bake.entries.append(_Entry(name.value, "dockerfile-inline", "", _json_text(inline)))
    return bake


def _json_text(node: object) -> WrittenString | None:
    if isinstance(node, JsonString):
        return WrittenString(node.start, node.end, node.value, node.escaped)
    return None


# -- findings -------------------------------------------------------------------------


class _FindingBuilder:
    def __init__(self, text: str, bake: _BakeFile, dockerfile: Scanner) -> None:
        self.text = text
        self.bake = bake
        self.dockerfile = dockerfile
        self.findings: list[Finding] = []
        # variable name -> (context, whether the use adds the docker-image:// scheme itself)
        self.variable_uses: dict[str, list[tuple[str, bool]]] = {}

    def build(self) -> list[Finding]:
        for entry in self.bake.entries:
            where = f'target "{entry.target}" {entry.attribute}'
            if entry.attribute == "contexts":
                self.context(entry, f"{where}.{entry.key}")
            elif entry.attribute == "args" and is_image_arg(entry.key):
                self.image_arg(entry, f"{where}.{entry.key}")
            elif entry.attribute == "dockerfile-inline":
                self.inline(entry, where)
        self.variable_defaults()
        return sorted(self.findings, key=lambda finding: finding.start)

    def context(self, entry: _Entry, context: str) -> None:
        value = entry.value
        if isinstance(value, _Variable):
            self.use_variable(value.name, context, scheme=True)
            return
        if value is None or not value.value.startswith(DOCKER_IMAGE_SCHEME):
            return
        reference = value.value[len(DOCKER_IMAGE_SCHEME) :]
        whole = _SINGLE_VARIABLE.fullmatch(reference)
        if whole is not None and whole.group(1) in self.bake.variables:
            self.use_variable(whole.group(1), context, scheme=False)
            return
        if value.escaped:
            self.findings.append(
                Finding(
                    value.start,
                    value.end,
                    context,
                    reference_text=reference,
                    rewritable=False,
                    note=ESCAPED,
                )
            )
            return
        start = value.start + len(DOCKER_IMAGE_SCHEME)
        self.findings.append(Finding(start, value.end, context, templated="${" in reference))

    def image_arg(self, entry: _Entry, context: str) -> None:
        value = entry.value
        if isinstance(value, _Variable):
            self.use_variable(value.name, context, scheme=False)
            return
        if value is None or not value.value.strip():
            return
        whole = _SINGLE_VARIABLE.fullmatch(value.value)
        if whole is not None and whole.group(1) in self.bake.variables:
            self.use_variable(whole.group(1), context, scheme=False)
            return
        templated = "${" in value.value or "%{" in value.value
        if not templated and not _parses(value.value):
            return
        self.findings.append(string_finding(value, context, templated=templated))

    def inline(self, entry: _Entry, context: str) -> None:
        value = entry.value
        if not isinstance(value, WrittenString):
            return
        raw = self.text[value.start : value.end]
        if value.escaped:
            characters, offsets = decode_with_offsets(raw, value.start)
        else:
            characters, offsets = list(raw), list(range(value.start, value.end))
        dockerfile = "".join(characters)
        for found in self.dockerfile.scan("Dockerfile", dockerfile):
            if found.end <= found.start:
                continue
            start = offsets[found.start]
            # Where the next character is written: an escape (`\u00e9`) spans several.
            end = offsets[found.end] if found.end < len(offsets) else value.end
            written = self.text[start:end]
            reference = found.reference_text or dockerfile[found.start : found.end]
            exact = written == reference
            self.findings.append(
                Finding(
                    start,
                    end,
                    f"{context} {found.context}",
                    reference_text=None if exact else reference,
                    templated=found.templated,
                    rewritable=found.rewritable and exact,
                    note=found.note if exact else found.note or "written with escape sequences",
                )
            )

    def use_variable(self, name: str, context: str, *, scheme: bool) -> None:
        if name not in self.bake.variables:
            return
        self.variable_uses.setdefault(name, []).append((context, scheme))

    def variable_defaults(self) -> None:
        for name, uses in self.variable_uses.items():
            default = self.bake.variables.get(name)
            if not isinstance(default, WrittenString) or not default.value.strip():
                continue
            if any(scheme for _, scheme in uses):
                # Used as a whole context value: the default carries the scheme.
                if not default.value.startswith(DOCKER_IMAGE_SCHEME):
                    continue
                skip = len(DOCKER_IMAGE_SCHEME)
                default = WrittenString(
                    default.start + skip, default.end, default.value[skip:], default.escaped
                )
            names = ", ".join(context for context, _ in uses)
            context = f"variable {name} (used by {names})"
            total = len(re.findall(rf"(?<![\w-]){re.escape(name)}(?![\w-])", self.text))
            # The declaration (or top-level attribute) names it once; each whole-value use once.
            elsewhere = total - 1 - len(uses) > 0
            finding = string_finding(default, context, templated="${" in default.value)
            if elsewhere and finding.rewritable:
                finding = Finding(
                    finding.start,
                    finding.end,
                    context,
                    rewritable=False,
                    note=f"variable {name} is also used elsewhere; pin it by hand",
                )
            self.findings.append(finding)


def _parses(value: str) -> bool:
    try:
        parse_normalized(value.strip())
    except InvalidReference:
        return False
    return True


class BakeScanner:
    kind = "bake"

    def __init__(self, dockerfile: Scanner) -> None:
        self.dockerfile = dockerfile  # reads `dockerfile-inline`

    def matches(self, path: str) -> bool:
        name = path_name(path).lower()
        if not name.endswith((".hcl", ".json")):
            return False
        return name.startswith("docker-bake") or ".bake." in name or name.startswith("bake.")

    def scan(self, path: str, text: str) -> Iterator[Finding]:
        is_json = path.lower().endswith(".json")
        bake = _read_json(text) if is_json else _HclReader(text).read()
        return iter(_FindingBuilder(text, bake, self.dockerfile).build())
