"""Image references in Dockerfiles and Containerfiles: base images, copy and mount sources.

Reads the file the way BuildKit does (parser directives, line continuations with the escape
character, heredocs, build stages, global ARG defaults) and reports each image reference at
the span where it is written.

What is reported:

- ``FROM image``: the image word, flags such as ``--platform`` skipped. A word naming an
  earlier stage (case-insensitive) or ``scratch`` is not an image, also when it is what the
  global ARG defaults give (BuildKit expands a FROM before it looks for stages).
- ``FROM $ARG`` / ``FROM ${ARG}``: the default of the global ``ARG`` (declared before the
  first ``FROM``) is the image, so its value is reported where the ``ARG`` line writes it.
  When that ARG is also used elsewhere (another instruction, a FROM that combines it with
  other text) changing its value changes more than the base image: it is reported with
  ``rewritable=False``. A FROM that combines ARGs with other text is reported as templated,
  with the reference the defaults give in the note.
- ``FROM ${REGISTRY}/library/golang:${GO_VER}``: when the defaults give a reference whose tag
  (and digest) come from the default of the ARG that ends the image, and that ARG is used by
  no other instruction, the FROM is reported with the reference the defaults give and its
  digest is written into that default (``ARG GO_VER=1.26-alpine@sha256:…``). Every FROM
  using the ARG must give the same reference, so they share one place to write.
- ``COPY --from=…`` and ``RUN --mount=…,from=…``: the value when it does not name a stage
  (by name or index). A bare name (no registry, tag or digest) may also be a named build
  context given at build time (``--build-context``, Bake ``contexts``), so it is reported
  but not rewritten.
- ``# syntax=…``: the BuildKit frontend is an image too (the value's first word).

Parser directives are read as BuildKit reads them: the escape directive may be indented, the
syntax directive may not (the frontend is chosen from the raw lines), an unknown directive
ends them, and a file BuildKit rejects (a directive twice, a bad escape) is a `ScanError`.
What is seen and not reported (stages, scratch) is given with its reason by `dismissals`.

Heredoc bodies, comments and ``ONBUILD`` triggers are not read as instructions.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field, replace

from pinbot.reference import InvalidReference, parse_normalized
from pinbot.scanners._paths import path_name
from pinbot.scanners.interface import DigestSlot, Dismissal, Finding, ScanError

__all__ = ["SCANNER", "DockerfileScanner", "is_dockerfile_name"]

_STEMS = ("dockerfile", "containerfile")
# Names that begin like a Dockerfile but are something else: documentation, ignore files,
# source code, editor leftovers.
_NOT_DOCKERFILE_SUFFIXES = frozenset(
    {
        "md", "markdown", "rst", "txt", "adoc", "html", "dockerignore", "json", "yaml", "yml",
        "toml", "ini", "sh", "bash", "ps1", "bat", "py", "go", "rs", "js", "ts", "java", "rb",
        "php", "c", "h", "cs", "kt", "swift", "orig", "rej", "swp", "patch", "diff", "lock",
        "sum", "mod", "png", "svg",
    }
)  # fmt: skip

# A parser directive after its `#` and the spaces after it: a name of letters and digits, `=`,
# a value (Go's `\s` is these five characters).
_DIRECTIVE = re.compile(r"([A-Za-z][A-Za-z0-9]*)[\t\n\f\r ]*=[\t\n\f\r ]*(.+?)[\t\n\f\r ]*")
_KNOWN_DIRECTIVES = frozenset({"syntax", "escape", "check"})
# What Go's unicode.IsSpace calls space: BuildKit drops it from the start of a line.
_SPACE = frozenset("\t\n\v\f\r \x85\xa0\u1680\u2028\u2029\u202f\u205f\u3000") | frozenset(
    chr(code) for code in range(0x2000, 0x200B)
)
_HEREDOC = re.compile(r"<<(-?)([\"']?)([A-Za-z_][A-Za-z0-9_.-]*)\2")
_VARIABLE_ONLY = re.compile(r"\$(?:([A-Za-z_][A-Za-z0-9_]*)|\{([A-Za-z_][A-Za-z0-9_]*)\})")
_VARIABLE = re.compile(
    r"\$(?:([A-Za-z_][A-Za-z0-9_]*)|\{([A-Za-z_][A-Za-z0-9_]*)(?:[:?+-][^}]*)?\})"
)
_BARE_NAME = re.compile(r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*")


def is_dockerfile_name(name: str) -> bool:
    """Whether a file name is a Dockerfile or Containerfile by the usual conventions.

    >>> [is_dockerfile_name(n) for n in ("Dockerfile", "api.Dockerfile", "Dockerfile.dev", "Dockerfile.md")]
    [True, True, True, False]
    """
    lowered = name.lower()
    for stem in _STEMS:
        if lowered == stem or lowered.endswith("." + stem):
            return True
        if lowered.startswith(stem) and lowered[len(stem)] in ".-_0123456789":
            suffix = lowered.rsplit(".", 1)[1] if "." in lowered[len(stem) :] else ""
            return suffix not in _NOT_DOCKERFILE_SUFFIXES and not lowered.endswith("~")
    return False


@dataclass
class _Logical:
    """One instruction with its continuation lines joined; `offsets[i]` is where char i is written."""

    text: str
    offsets: list[int]
    line: int  # 1-based line of the first character

    def span(self, start: int, end: int) -> tuple[int, int, bool]:
        """The written span of logical chars [start, end) and whether it is one unbroken run."""
        first = self.offsets[start]
        last = self.offsets[end - 1] + 1
        return first, last, last - first == end - start


@dataclass
class _Word:
    start: int
    end: int
    text: str


@dataclass
class _Stage:
    names: set[str] = field(default_factory=set)


@dataclass
class _ArgDefault:
    name: str
    value: str
    start: int  # written span of the value (inside quotes)
    end: int
    contiguous: bool
    escaped: bool


@dataclass
class _ArgUse:
    """A FROM that is exactly `$NAME`: the ARG's default is the image."""

    arg: str
    from_line: int
    stage: str | None


@dataclass
class _ComposedFrom:
    """A FROM image that combines ARGs with other text; decided once every use is known."""

    logical: _Logical
    word: _Word
    context: str
    escaped: bool


def _physical_lines(text: str, start: int) -> list[tuple[int, int]]:
    """(start, end) of each line's content, line ending excluded (LF or CRLF)."""
    lines: list[tuple[int, int]] = []
    position = start
    length = len(text)
    while position <= length:
        newline = text.find("\n", position)
        end = length if newline < 0 else newline
        content_end = end - 1 if end > position and text[end - 1] == "\r" else end
        lines.append((position, content_end))
        if newline < 0:
            break
        position = newline + 1
    return lines


# A shell-like word: a run of characters up to a space or tab, where a quoted part (to its
# closing quote, or to the end; `\` escapes inside double quotes) and a `{{ … }}` or `{% … %}`
# template block (to its close, or to the end) count as one character, spaces and all.
_WORD = re.compile(
    r"""(?:[^ \t"'{]|\{(?![{%])|"(?:[^"\\]|\\.|\\\Z)*"?|'[^']*'?|\{\{(?:.*?\}\}|.*\Z)|\{%(?:.*?%\}|.*\Z))+""",
    re.DOTALL,
)


def _split_words(logical: _Logical, start: int) -> list[_Word]:
    """Shell-like words of the arguments; quotes and `{{ … }}` template blocks stay inside a word."""
    return [_Word(m.start(), m.end(), m.group()) for m in _WORD.finditer(logical.text, start)]


def _unquote(word: str) -> tuple[int, int, bool]:
    """(start, end, escaped) of a value inside one pair of matching quotes, if quoted."""
    if len(word) >= 2 and word[0] == word[-1] and word[0] in "\"'":
        inner = word[1:-1]
        return 1, len(word) - 1, word[0] == '"' and "\\" in inner
    return 0, len(word), False


def _platform_flag(arguments: list[_Word]) -> str | None:
    """The value of a FROM's `--platform=` flag as written (quotes removed), or None."""
    for word in arguments:
        if not word.text.startswith("--"):
            break
        name, equals, value = word.text.partition("=")
        if name.lower() == "--platform" and equals:
            inner_start, inner_end, _ = _unquote(value)
            return value[inner_start:inner_end] or None
    return None


def _not_an_image(value: str, earlier_stages: list[str | None]) -> str | None:
    """Why a FROM image (after ARG expansion) pulls nothing: scratch, or an earlier stage."""
    if value.lower() == "scratch":
        return "is scratch, the empty image: nothing is pulled"
    if value.lower() in earlier_stages:
        return f"names the earlier build stage {value}, not an image"
    return None


def _lstrip_space(text: str, start: int, end: int) -> int:
    """The first offset in [start, end) that is not space as BuildKit counts it."""
    while start < end and text[start] in _SPACE:
        start += 1
    return start


def _directive_match(text: str, start: int, end: int) -> re.Match[str] | None:
    """The `# name=value` parser directive written at [start, end), if it is one BuildKit knows."""
    if not text.startswith("#", start) or start >= end:
        return None
    match = _DIRECTIVE.fullmatch(text, _lstrip_space(text, start + 1, end), end)
    if match is None or match.group(1).lower() not in _KNOWN_DIRECTIVES:
        return None
    return match


def _continues(line: str, escape: str) -> bool:
    """Whether a line (trailing spaces and tabs removed) continues on the next one.

    BuildKit's rule: the escape character ends the line and is either alone on it or follows
    a character that is not the escape itself (`c:\\\\` ends an instruction).
    """
    return line.endswith(escape) and (len(line) == 1 or line[-2] != escape)


class DockerfileScanner:
    kind = "dockerfile"

    def matches(self, path: str) -> bool:
        return is_dockerfile_name(path_name(path))

    def scan(self, path: str, text: str) -> Iterator[Finding]:
        return iter(_DockerfileReader(text).read())

    def dismissals(self, path: str, text: str) -> Iterator[Dismissal]:
        reader = _DockerfileReader(text)
        reader.read()
        return iter(sorted(reader.dismissed, key=lambda dismissal: dismissal.start))


# long: one pass over the file keeps the state BuildKit's parser and dispatcher keep together
# (directives, escape character, global ARGs, stages, every use of an ARG) for FROM to consult.
class _DockerfileReader:
    def __init__(self, text: str) -> None:
        self.text = text
        self.escape = "\\"
        self.findings: list[Finding] = []
        self.dismissed: list[Dismissal] = []
        self.dismissed_args: set[str] = set()
        self.global_args: dict[str, _ArgDefault | None] = {}
        self.arg_uses: dict[str, list[_ArgUse]] = {}
        self.other_uses: dict[str, int] = {}
        self.from_uses: dict[str, int] = {}  # in FROM images that combine ARGs with text
        self.redeclared: set[str] = set()  # `ARG NAME` inside a stage: RUN sees its value
        self.composed: list[_ComposedFrom] = []
        self.stage_names: list[str | None] = []  # per FROM, in order
        self.stages_seen = 0
        self.seen_from = False

    # -- reading -------------------------------------------------------------------------

    def read(self) -> list[Finding]:
        start = 1 if self.text.startswith("\ufeff") else 0
        lines = _physical_lines(self.text, start)
        index = self._directives(lines)
        instructions: list[_Logical] = []
        while index < len(lines):
            logical, index = self._logical_line(lines, index)
            if logical is None:
                continue
            instructions.append(logical)
            index = self._skip_heredocs(logical, lines, index)
        split = [(logical, _split_words(logical, 0)) for logical in instructions]
        self._collect_stages(split)
        for logical, words in split:
            self._instruction(logical, words)
        self._report_composed()
        self._report_arg_defaults()
        return sorted(self.findings, key=lambda finding: finding.start)

    def _directives(self, lines: list[tuple[int, int]]) -> int:
        """Parser directives at the top of the file; returns the index of the first other line.

        Two readers in BuildKit look at them, and they differ. The parser (escape, check) drops
        a line's leading whitespace before looking for `#`; the frontend selection that pulls
        the `syntax` image does not, and it skips a first `#!` line. Both stop at the first
        line that is not a `# name=value` comment naming a known directive.
        (moby/buildkit frontend/dockerfile/parser: parser.go processLine, directives.go
        DirectiveParser.ParseLine and DetectSyntax.)
        """
        parser_lines = [(_lstrip_space(self.text, start, end), end) for start, end in lines]
        index = 0
        seen: set[str] = set()
        for index, (start, end) in enumerate(parser_lines):
            match = _directive_match(self.text, start, end)
            if match is None:
                break
            name = match.group(1).lower()
            if name in seen:
                raise ScanError(
                    f"BuildKit rejects this file: only one {name} parser directive can be used",
                    index + 1,
                )
            seen.add(name)
            if name == "escape":
                if match.group(2) not in ("\\", "`"):
                    raise ScanError(
                        f"BuildKit rejects this file: invalid escape token '{match.group(2)}'"
                        " does not match ` or \\",
                        index + 1,
                    )
                self.escape = match.group(2)
        else:
            index = len(lines)
        self._syntax_directive(lines)
        return index

    def _syntax_directive(self, lines: list[tuple[int, int]]) -> None:
        """The frontend image of `# syntax=`, read the way BuildKit chooses its frontend."""
        first = 1 if lines and self.text.startswith("#!", lines[0][0]) else 0
        for start, end in lines[first:]:
            match = _directive_match(self.text, start, end)
            if match is None:
                stripped = _lstrip_space(self.text, start, end)
                indented = _directive_match(self.text, stripped, end)
                if stripped > start and indented and indented.group(1).lower() == "syntax":
                    self.dismissed.append(
                        Dismissal(
                            indented.start(2),
                            indented.end(2),
                            "syntax directive",
                            "whitespace before '#': BuildKit does not read this line when it "
                            "chooses the frontend image, so no image is pulled from it",
                        )
                    )
                return
            if match.group(1).lower() != "syntax":
                continue
            # The image is the value's first word; the rest are the frontend's arguments.
            value_end = self.text.find(" ", match.start(2), match.end(2))
            value_end = match.end(2) if value_end < 0 else value_end
            plain = not any(char in self.text[match.start(2) : value_end] for char in "\"'\t\\")
            self.findings.append(
                Finding(match.start(2), value_end, "syntax directive", rewritable=plain)
            )
            return

    def _logical_line(
        self, lines: list[tuple[int, int]], index: int
    ) -> tuple[_Logical | None, int]:
        start, end = lines[index]
        first = _lstrip_space(self.text, start, end)
        if first == end or self.text.startswith("#", first):
            return None, index + 1
        pieces: list[str] = []
        offsets: list[int] = []
        first_line = index + 1
        while index < len(lines):
            start, end = lines[index]
            index += 1
            content = self.text[start:end]
            if len(pieces) > 0:
                bare = _lstrip_space(self.text, start, end)
                if bare == end or self.text.startswith("#", bare):
                    continue  # empty and comment lines inside a continuation are dropped
            else:
                start = first  # the first line's leading space is not part of the instruction
                content = self.text[start:end]
            trimmed = content.rstrip(" \t")
            continued = _continues(trimmed, self.escape)
            if continued:
                trimmed = trimmed[:-1]
            pieces.append(trimmed)
            offsets.extend(range(start, start + len(trimmed)))
            if not continued:
                break
        logical_text = "".join(pieces)
        # Leading space is not part of the instruction (BuildKit trims the joined line).
        lead = _lstrip_space(logical_text, 0, len(logical_text))
        return _Logical(logical_text[lead:], offsets[lead:], first_line), index

    def _skip_heredocs(self, logical: _Logical, lines: list[tuple[int, int]], index: int) -> int:
        keyword, _, rest = logical.text.partition(" ")
        if keyword.upper() not in ("RUN", "COPY", "ADD") or rest.lstrip().startswith("["):
            return index
        for match in _HEREDOC.finditer(rest):
            strip_tabs = match.group(1) == "-"
            terminator = match.group(3)
            while index < len(lines):
                start, end = lines[index]
                index += 1
                body = self.text[start:end]
                self._note_uses(body)
                if (body.lstrip("\t") if strip_tabs else body) == terminator:
                    break
        return index

    # -- stages and instructions ---------------------------------------------------------

    def _collect_stages(self, instructions: list[tuple[_Logical, list[_Word]]]) -> None:
        for _logical, words in instructions:
            if not words or words[0].text.upper() != "FROM":
                continue
            named = len(words) >= 4 and words[-2].text.upper() == "AS"
            self.stage_names.append(words[-1].text.lower() if named else None)

    def _instruction(self, logical: _Logical, words: list[_Word]) -> None:
        if not words:  # a continuation with nothing after it, at the end of the file
            return
        keyword = words[0].text.upper()
        arguments = words[1:]
        if keyword == "FROM":
            self._from(logical, arguments)
            self.seen_from = True
            return
        for word in arguments:
            self._note_uses(word.text)
        if keyword == "ARG":
            self._arg(logical, arguments)
        elif keyword == "COPY":
            self._flag_references(logical, arguments, "--from", "COPY --from")
        elif keyword == "RUN":
            self._mount_references(logical, arguments)

    def _note_uses(self, text: str, uses: dict[str, int] | None = None) -> None:
        counts = self.other_uses if uses is None else uses
        for match in _VARIABLE.finditer(text):
            name = match.group(1) or match.group(2)
            counts[name] = counts.get(name, 0) + 1

    def _from(self, logical: _Logical, arguments: list[_Word]) -> None:
        positional = [word for word in arguments if not word.text.startswith("--")]
        for word in arguments:
            if word.text.startswith("--"):
                self._note_uses(word.text)
        if not positional:
            return
        image = positional[0]
        stage: str | None = None
        if len(positional) >= 3 and positional[1].text.upper() == "AS":
            stage = positional[2].text
        earlier = self.stage_names[: self.stages_seen]
        self.stages_seen += 1
        context = f"FROM (stage {stage})" if stage else "FROM"
        reason = _not_an_image(image.text, earlier)
        if reason is not None:
            self._dismiss(logical, image, context, reason)
            return
        only = _VARIABLE_ONLY.fullmatch(image.text)
        if only is not None:
            name = only.group(1) or only.group(2)
            default = self.global_args.get(name)
            reason = None if default is None else _not_an_image(default.value, earlier)
            if default is not None and reason is not None:
                # BuildKit expands the FROM before it looks for a stage or scratch. The ARG
                # stays out of reach of a pin through any other FROM that uses it.
                self._note_uses(image.text, self.from_uses)
                self._dismiss_arg_use(logical, image, context, default, reason)
                return
            if default is not None and default.value:
                line = self._line_of(logical.offsets[image.start])
                self.arg_uses.setdefault(name, []).append(_ArgUse(name, line, stage))
                return
        self._note_uses(image.text, self.from_uses)
        inner_start, inner_end, escaped = _unquote(image.text)
        if inner_end > inner_start:
            image = _Word(
                image.start + inner_start,
                image.start + inner_end,
                image.text[inner_start:inner_end],
            )
        if "$" in image.text:
            expanded = self._expansion(image.text)
            reason = None if expanded is None else _not_an_image(expanded, earlier)
            if reason is not None:
                self._dismiss(
                    logical, image, context, f"ARG defaults give {expanded}, which {reason}"
                )
                return
            self.composed.append(_ComposedFrom(logical, image, context, escaped))
            return
        reported = len(self.findings)
        self._report_word(logical, image, context, None, rewritable=not escaped)
        platform = _platform_flag(arguments)
        if platform is not None and len(self.findings) > reported:
            self.findings[-1] = replace(self.findings[-1], platform=platform)

    def _dismiss(self, logical: _Logical, word: _Word, context: str, reason: str) -> None:
        start, end, _ = logical.span(word.start, word.end)
        self.dismissed.append(Dismissal(start, end, context, reason))

    def _dismiss_arg_use(
        self, logical: _Logical, image: _Word, context: str, default: _ArgDefault, reason: str
    ) -> None:
        """A FROM `$NAME` whose ARG default is no image, and that default where it is written."""
        self._dismiss(
            logical,
            image,
            context,
            f"ARG {default.name} defaults to {default.value}, which {reason}",
        )
        if default.name not in self.dismissed_args and default.end > default.start:
            self.dismissed_args.add(default.name)
            line = self._line_of(logical.offsets[image.start])
            self.dismissed.append(
                Dismissal(
                    default.start,
                    default.end,
                    f"ARG {default.name}",
                    f"FROM line {line} reads it, and it {reason}",
                )
            )

    def _arg(self, logical: _Logical, arguments: list[_Word]) -> None:
        if self.seen_from:
            # Only global ARGs (before the first FROM) can name a base image; one declared
            # again in a stage is seen by its RUN commands.
            self.redeclared.update(word.text.partition("=")[0] for word in arguments)
            return
        for word in arguments:
            name, equals, _ = word.text.partition("=")
            if not equals:
                self.global_args[name] = None
                continue
            value_start = word.start + len(name) + 1
            raw = logical.text[value_start : word.end]
            inner_start, inner_end, escaped = _unquote(raw)
            value = raw[inner_start:inner_end]
            if not value:
                self.global_args[name] = _ArgDefault(name, "", 0, 0, True, False)
                continue
            start, end, contiguous = logical.span(
                value_start + inner_start, value_start + inner_end
            )
            self.global_args[name] = _ArgDefault(name, value, start, end, contiguous, escaped)

    def _flag_references(
        self, logical: _Logical, arguments: list[_Word], flag: str, context: str
    ) -> None:
        for word in arguments:
            if not word.text.startswith("--"):
                break
            name, equals, _ = word.text.partition("=")
            if name.lower() != flag or not equals:
                continue
            value_start = word.start + len(name) + 1
            self._report_source(logical, value_start, word.end, context)

    def _mount_references(self, logical: _Logical, arguments: list[_Word]) -> None:
        for word in arguments:
            if not word.text.startswith("--"):
                break
            name, equals, _ = word.text.partition("=")
            if name.lower() != "--mount" or not equals:
                continue
            position = word.start + len(name) + 1
            for field_start, field_end in _csv_fields(logical.text, position, word.end):
                key, eq, _ = logical.text[field_start:field_end].partition("=")
                if eq and key.strip().lower() == "from":
                    value_start = field_start + len(key) + 1
                    self._report_source(logical, value_start, field_end, "RUN --mount from")

    def _report_source(self, logical: _Logical, start: int, end: int, context: str) -> None:
        raw = logical.text[start:end]
        inner_start, inner_end, escaped = _unquote(raw)
        value = raw[inner_start:inner_end]
        if not value:
            return
        if value.isdigit() or value.lower() in self.stage_names:
            word = _Word(start + inner_start, start + inner_end, value)
            what = "the index of a build stage" if value.isdigit() else "a build stage's name"
            self._dismiss(logical, word, context, f"{what}, not an image")
            return
        note: str | None = None
        rewritable = not escaped
        if _BARE_NAME.fullmatch(value):
            note = "a bare name here may be a named build context rather than an image"
            rewritable = False
        word = _Word(start + inner_start, start + inner_end, value)
        self._report_word(logical, word, context, note, rewritable=rewritable)

    def _report_word(
        self,
        logical: _Logical,
        word: _Word,
        context: str,
        note: str | None,
        *,
        rewritable: bool = True,
    ) -> None:
        start, end, contiguous = logical.span(word.start, word.end)
        if not contiguous:
            self.findings.append(
                Finding(
                    start,
                    end,
                    context,
                    reference_text=word.text,
                    rewritable=False,
                    note=note or "reference is split across continuation lines",
                )
            )
            return
        templated = "$" in word.text or "{{" in word.text or "{%" in word.text
        if not templated and any(char in word.text for char in "\"' \t\\"):
            rewritable = False  # stray quotes or escapes: not one plain reference as written
        self.findings.append(
            Finding(
                start,
                end,
                context,
                templated=templated,
                rewritable=rewritable and not templated,
                note=note,
            )
        )

    def _report_composed(self) -> None:
        """FROM images combining ARGs with text: pinned through one ARG's default when safe,
        else reported templated with what the defaults give."""
        candidates: dict[str, list[tuple[_ComposedFrom, str]]] = {}
        for use in self.composed:
            composed = self._composed_reference(use)
            if composed is not None:
                candidates.setdefault(composed[0], []).append((use, composed[1]))
        pinnable: dict[int, tuple[str, str]] = {}
        for name, uses in candidates.items():
            # Every FROM using the ARG must give one reference: they write to one place.
            if len(uses) == self.from_uses.get(name) and len({ref for _, ref in uses}) == 1:
                pinnable.update((id(use), (name, ref)) for use, ref in uses)
        for use in self.composed:
            expanded = self._expansion(use.word.text)
            note = None if expanded is None else f"ARG defaults give {expanded}"
            if id(use) not in pinnable:
                self._report_word(
                    use.logical, use.word, use.context, note, rewritable=not use.escaped
                )
                continue
            name, reference = pinnable[id(use)]
            default = self.global_args[name]
            assert default is not None
            start, end, _ = use.logical.span(use.word.start, use.word.end)
            line = self._line_of(default.start)
            self.findings.append(
                Finding(
                    start,
                    end,
                    use.context,
                    reference_text=reference,
                    digest_slot=_default_digest_slot(default),
                    structured=True,
                    templated=False,
                    note=f"{note} (tag and digest written in ARG {name}, line {line})",
                )
            )

    def _composed_reference(self, use: _ComposedFrom) -> tuple[str, str] | None:
        """(ARG name, reference) when a FROM's tag and digest come from the default of the
        ARG that ends its image and nothing else reads that ARG; None otherwise."""
        image = use.word.text
        variables = list(_VARIABLE.finditer(image))
        last = variables[-1] if variables else None
        if use.escaped or last is None or last.end() != len(image):
            return None
        name = last.group(1) or last.group(2)
        default = self.global_args.get(name)
        expanded = self._expansion(image)
        if (
            expanded is None
            or default is None
            or not default.value
            or not default.contiguous
            or default.escaped
            or self.text[default.start : default.end] != default.value
            or self.other_uses.get(name)
            or name in self.arg_uses
            or name in self.redeclared
            or not use.logical.span(use.word.start, use.word.end)[2]
        ):
            return None
        try:
            reference = parse_normalized(expanded)
        except InvalidReference:
            return None
        if reference.tag is None:
            return None
        # The tag starts after the last `:` of the name part; it must lie in the default.
        named = expanded.split("@", 1)[0]
        tag_start = named.rfind(":") + 1
        if tag_start < len(expanded) - len(default.value):
            return None
        return name, expanded

    def _expansion(self, image: str) -> str | None:
        """What a templated FROM gives with the global ARG defaults, when they cover it."""
        if "$" not in image:
            return None
        missing = False

        def substitute(match: re.Match[str]) -> str:
            nonlocal missing
            default = self.global_args.get(match.group(1) or match.group(2))
            if default is None or not default.value:
                missing = True
                return match.group(0)
            return default.value

        expanded = _VARIABLE_ONLY.sub(substitute, image)
        if missing or "$" in expanded:
            return None
        return expanded

    def _report_arg_defaults(self) -> None:
        for name, uses in self.arg_uses.items():
            default = self.global_args[name]
            assert default is not None
            lines = ", ".join(str(use.from_line) for use in uses)
            plural = "lines" if len(uses) > 1 else "line"
            context = f"ARG {name} (used by FROM {plural} {lines})"
            note: str | None = None
            rewritable = default.contiguous and not default.escaped
            if self.other_uses.get(name) or self.from_uses.get(name):
                rewritable = False
                note = f"ARG {name} is also used outside FROM; pin it by hand"
            elif not rewritable:
                note = "the default is not written as one plain string"
            self.findings.append(
                Finding(
                    default.start,
                    default.end,
                    context,
                    reference_text=default.value,
                    rewritable=rewritable,
                    note=note,
                )
            )

    def _line_of(self, offset: int) -> int:
        return self.text.count("\n", 0, offset) + 1


def _default_digest_slot(default: _ArgDefault) -> DigestSlot:
    """The digest inside an ARG default written `tag@digest`, or an insertion after `tag`."""
    at = default.value.find("@")
    if at < 0:
        return DigestSlot(default.end, default.end, prefix="@")
    return DigestSlot(default.start + at + 1, default.end)


def _csv_fields(text: str, start: int, end: int) -> Iterator[tuple[int, int]]:
    """Comma-separated fields of a `--mount` value; a field may be double-quoted."""
    position = start
    field_start = start
    quoted = False
    while position < end:
        char = text[position]
        if char == '"':
            quoted = not quoted
        elif char == "," and not quoted:
            yield field_start, position
            field_start = position + 1
        position += 1
    yield field_start, end


SCANNER = DockerfileScanner()
