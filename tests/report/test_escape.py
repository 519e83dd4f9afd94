"""The one escaper per target, checked against GitHub's own Markdown renderer (cmark-gfm).

Hostile values are what a registry label, a file name or a reference can hold; each must come
out of the renderer as the same literal text, with no element the value did not ask for.
"""

from __future__ import annotations

import html
import re

import cmarkgfm
import pytest
from hypothesis import given
from hypothesis import strategies as st

from pinbot.report import escape

HOSTILE = [
    "1.0`",
    "``a``",
    "` `",
    "@octocat please merge",
    "<img src=x onerror=alert(1)>",
    "[click me](https://evil.example/)",
    "1.0\n## Reviewed by the security team, safe to merge",
    "1.0 <!-- pinbot:state {\"version\":1",
    "a --> b",
    "pipe | in | cell",
    "*bold* _it_ ~~s~~ #123",
    "https://evil.example/autolink",
    "\\`escaped\\`",
    "linux/arm64/v8",
    "",
    "   ",
]


def render(markdown: str) -> str:
    return cmarkgfm.github_flavored_markdown_to_html(
        markdown, options=cmarkgfm.Options.CMARK_OPT_UNSAFE
    )


def one_line(value: str) -> str:
    return escape.strip_comment_markers(re.sub(r"[\r\n]+", " ", value))


@pytest.mark.parametrize("value", HOSTILE)
def test_code_span_renders_the_value_literally(value: str) -> None:
    rendered = render(f"before {escape.code(value)} after")
    inner = re.fullmatch(r"<p>before <code>(.*)</code> after</p>\n", rendered, re.S)
    assert inner is not None, rendered
    assert html.unescape(inner.group(1)).strip() == one_line(value).strip()


@pytest.mark.parametrize("value", HOSTILE)
def test_code_cell_stays_in_its_cell(value: str) -> None:
    table = f"| a | b |\n|---|---|\n| {escape.code_cell(value)} | end |\n"
    rendered = render(table)
    cells = re.findall(r"<td>(.*?)</td>", rendered, re.S)
    assert len(cells) == 2 and cells[1] == "end", rendered
    code = re.fullmatch(r"<code>(.*)</code>", cells[0], re.S)
    assert code is not None, rendered
    assert html.unescape(code.group(1)).strip() == one_line(value).strip()


@pytest.mark.parametrize("value", HOSTILE)
def test_text_has_no_markup(value: str) -> None:
    rendered = render(f"x {escape.text(value)} y")
    assert re.fullmatch(r"<p>(.*)</p>\n", rendered, re.S), rendered
    body = rendered[3:-5]
    assert "<" not in body.replace("&lt;", ""), rendered  # no element at all
    literal = html.unescape(body).replace("\u200b", "")
    assert literal == f"x {one_line(value)} y"
    assert not re.search(r"@\w", html.unescape(body)), "a mention would notify someone"


def test_comment_markers_cannot_be_rebuilt_from_halves() -> None:
    assert escape.strip_comment_markers("<<!-!--->->") .count("<!") == 0
    for value in ["<!<!---->--", "--!>", "<!---->", "-<!-->-->"]:
        stripped = escape.strip_comment_markers(value)
        assert "<!" not in stripped and not re.search(r"-!?>", stripped)


@given(st.text())
def test_no_outside_value_opens_or_closes_a_comment(value: str) -> None:
    for rendered in (escape.code(value), escape.code_cell(value), escape.text(value)):
        assert "<!" not in rendered and not re.search(r"-!?>", rendered)
        assert "\n" not in rendered and "\r" not in rendered


@given(st.text())
def test_terminal_is_one_line_and_never_a_workflow_command(value: str) -> None:
    line = escape.terminal(value)
    assert "\n" not in line and "\r" not in line and "\x1b" not in line
    assert not line.startswith("::")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("a\nb", "a\\nb"),
        ("\x1b[31mred", "\\x1b[31mred"),
        ("::error file=x::boom", "\\x3a:error file=x::boom"),
        ("\u202eevil", "\\u202eevil"),
        ("plain/path.yaml", "plain/path.yaml"),
    ],
)
def test_terminal_shows_control_characters_and_workflow_commands_as_escapes(
    value: str, expected: str
) -> None:
    assert escape.terminal(value) == expected


def test_workflow_command_values_percent_encode_separators_and_line_breaks() -> None:
    assert escape.workflow_command("a,b:c\n%", property_value=True) == "a%2Cb%3Ac%0A%25"
    assert escape.workflow_command("msg: x\r\n") == "msg: x%0D%0A"


@pytest.mark.parametrize("value", HOSTILE)
def test_html_code_in_a_summary_renders_the_value_literally(value: str) -> None:
    rendered = render(
        f"<details><summary>{escape.html_code(value)} — rebuilt</summary>\n\n- a\n\n</details>\n"
    )
    inner = re.fullmatch(
        r"<details><summary><code>(.*)</code> — rebuilt</summary>\n<ul>\n<li>a</li>\n</ul>\n"
        r"</details>\n",
        rendered,
        re.S,
    )
    assert inner is not None, rendered
    assert "<" not in inner.group(1)
    assert html.unescape(inner.group(1)) == one_line(value)
