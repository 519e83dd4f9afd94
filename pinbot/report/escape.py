"""The one escaper per target: Markdown (GitHub-flavoured), terminal text, workflow commands.

Outside data is never markup. In Markdown it goes into code spans that no backtick run can
close, or into text with every punctuation character escaped and mentions broken; it never
carries a line break, and never `<!--` or `-->` (the hidden state block is an HTML comment).
In terminal text and logs, control characters and line breaks are escaped, so one line is one
record and nothing pinbot prints can become a workflow command.
"""

from __future__ import annotations

import html
import re
import secrets

__all__ = [
    "autolink",
    "code",
    "code_cell",
    "html_code",
    "remove_all",
    "strip_comment_markers",
    "terminal",
    "text",
    "workflow_command",
    "workflow_commands_stopped",
]

# C0 and C1 controls, DEL, line/paragraph separators, bidirectional overrides and isolates
# (which can make a terminal or a review page show other text than the bytes hold), BOM.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
_LINE_BREAKS = re.compile("[\r\n\u2028\u2029\x0b\x0c\x85]+")
_COMMENT_MARKERS = re.compile(r"<!|-+!?>")
# Every ASCII punctuation character can be backslash-escaped in CommonMark.
_PUNCTUATION = re.compile(r"""([!"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~])""")


def _escape_control(match: re.Match[str]) -> str:
    char = match.group()
    if char in _NAMED:
        return _NAMED[char]
    point = ord(char)
    return f"\\x{point:02x}" if point < 0x100 else f"\\u{point:04x}"


def terminal(value: str) -> str:
    """`value` as one line of terminal or log text: controls and line breaks escaped.

    A leading `::` is escaped too, so even a field that starts a line (a file name) cannot
    become a GitHub Actions workflow command.
    """
    escaped = _CONTROL.sub(_escape_control, value)
    if escaped.startswith("::"):
        escaped = "\\x3a" + escaped[1:]
    return escaped


def workflow_command(value: str, *, property_value: bool = False) -> str:
    """Escape text for a GitHub Actions workflow command (`::error file=…::message`).

    Messages escape `%`, CR and LF as the runner decodes them; property values (`file=`,
    `title=`) also `:` and `,`. Other controls are escaped as in `terminal`.
    """
    value = value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    value = _CONTROL.sub(_escape_control, value)
    if property_value:
        value = value.replace(":", "%3A").replace(",", "%2C")
    return value


def workflow_commands_stopped(value: str) -> str:
    """`value` as it is, between `::stop-commands::TOKEN` and `::TOKEN::`, for text that must
    reach a GitHub Actions log byte for byte (a diff of a file's own lines): the runner runs no
    workflow command written in between. The token is random, so the text cannot end it."""
    token = secrets.token_hex(32)
    ending = "" if value.endswith("\n") else "\n"
    return f"::stop-commands::{token}\n{value}{ending}::{token}::\n"


def strip_comment_markers(value: str) -> str:
    """`value` without anything that could open or close an HTML comment."""
    return remove_all(_COMMENT_MARKERS, value)


def remove_all(pattern: re.Pattern[str], value: str) -> str:
    """`value` with every match of `pattern` removed, again until none is left: removing one
    can join the halves of another (`<!<!---->--`)."""
    previous = None
    while previous != value:
        previous = value
        value = pattern.sub("", value)
    return value


def _one_line(value: str) -> str:
    value = _LINE_BREAKS.sub(" ", value)
    return _CONTROL.sub(" ", strip_comment_markers(value))


def code(value: str) -> str:
    """An inline code span holding `value` literally, whatever backticks it contains.

    The fence is one backtick longer than the longest run inside; a space pads a value that
    starts or ends with a backtick or a space (CommonMark strips one from each side).
    """
    value = _one_line(value)
    longest = max((len(run) for run in re.findall(r"`+", value)), default=0)
    fence = "`" * (longest + 1)
    if value.startswith(("`", " ")) or value.endswith(("`", " ")) or not value:
        value = f" {value} "
    return f"{fence}{value}{fence}"


def code_cell(value: str) -> str:
    """A code span for a GFM table cell: as `code`, with `|` escaped for the table parser."""
    return code(value).replace("|", "\\|")


def html_code(value: str) -> str:
    """`<code>value</code>` for an HTML context (a `<summary>` line): `&`, `<`, `>` and quotes
    escaped, one line, so the value can neither add an element nor end the HTML block."""
    return f"<code>{html.escape(_one_line(value), quote=True)}</code>"


def text(value: str) -> str:
    """`value` as literal inline Markdown text: no formatting, links, HTML or mentions."""
    escaped = _PUNCTUATION.sub(r"\\\1", _one_line(value))
    # GitHub finds @mentions and #references in the rendered text, after escapes are gone:
    # a zero-width space after the sign keeps them plain text.
    return escaped.replace("\\@", "@\u200b").replace("\\#", "#\u200b")


_URL = re.compile(r"https?://[^\s<>]+")


def autolink(url: str) -> str:
    """An http(s) URL as a Markdown autolink (`<https://…>`, inside which nothing is markup);
    anything else as `text`."""
    if _URL.fullmatch(url) is None or _CONTROL.search(url) is not None:
        return text(url)
    return f"<{url}>"
