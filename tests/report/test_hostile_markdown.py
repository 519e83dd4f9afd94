"""Nothing from a registry or a repository becomes markup in what pinbot writes to GitHub.

Each attack is a value a registry label, an index's platform or a file name can hold. The
Markdown pinbot writes (PR body, notes, comments, audit report) is rendered with cmark-gfm,
GitHub's own renderer, with raw HTML let through, and the HTML must hold no element, link,
mention or heading that came from the outside value; the hidden state must read back whole.
"""

from __future__ import annotations

import html
import re
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import cmarkgfm
import pytest

from pinbot import prbody
from pinbot.audit import AuditedRepository, AuditReport, audit_repository
from pinbot.bot.run import RunSummary
from pinbot.bot.run import run_bot as run_library
from pinbot.cli import build_parser
from pinbot.commands.run import run_options
from pinbot.config import Config, PolicyConfig, load_config
from pinbot.forge.github import Credentials
from pinbot.notes import add_lines, describe, moved_line
from pinbot.prbody import Move, PullState, Update
from pinbot.registry.manifest import ImageMetadata
from pinbot.report import markdown, run_summary
from pinbot.scanners import scan_text
from tests.support.github_fake import GitHubFake
from tests.support.registry import RunningRegistry

ATTACKS = [
    "1.0`",
    "1.0 `` ` @octocat ` ``",
    "@octocat",
    "<img src=x onerror=alert(1)>",
    "[click me](https://evil.example/)",
    "1.0\n## Reviewed by the security team, safe to merge",
    '1.0 <!-- pinbot:state {"version":1',
    "1.0 --> <h2>closed</h2>",
    "| x | y |",
    "</summary></details><img src=x>",
    "https://evil.example/autolink",
    "a\r\n\r\n# heading after a blank line",
]

D0, D1 = "sha256:" + "0" * 64, "sha256:" + "1" * 64
REV = "a1b2c3d4e5f60718293a4b5c6d7e8f9012345678"
VERSION = "org.opencontainers.image.version"
REVISION = "org.opencontainers.image.revision"
SOURCE = "org.opencontainers.image.source"
BASE_NAME = "org.opencontainers.image.base.name"
BASE_DIGEST = "org.opencontainers.image.base.digest"


def render(text: str) -> str:
    """HTML as GitHub's renderer makes it, raw HTML let through so any leak shows."""
    return cmarkgfm.github_flavored_markdown_to_html(
        text, options=cmarkgfm.Options.CMARK_OPT_UNSAFE
    )


def assert_inert(rendered: str, *, headings: tuple[str, ...] = ("h3",)) -> None:
    """No element, link, mention or heading beyond what pinbot writes itself."""
    elements = set(re.findall(r"<([a-zA-Z][a-zA-Z0-9]*)", rendered))
    ours = {"p", "code", "details", "summary", "ul", "li", "table", "thead", "tbody", "tr",
            "th", "td", "strong", "sub", "a", *headings}
    assert elements <= ours, (elements - ours, rendered)
    for href in re.findall(r'<a href="([^"]*)"', rendered):
        assert href.startswith("https://github.com/acme/api/"), rendered
    assert "evil.example" not in "".join(re.findall(r"<a [^>]*>", rendered))
    # Mentions are found in the shown text: code spans and the hidden comment are not.
    outside_code = re.sub(r"<code>.*?</code>|<!--.*?-->", "", rendered, flags=re.S)
    assert not re.search(r"@\w", html.unescape(outside_code)), "a mention would notify"
    assert not re.search(r"<h\d[^>]*>[^<]*(Reviewed|heading|closed)", rendered), rendered


def meta(**labels: str) -> ImageMetadata:
    return ImageMetadata(
        digest=D1,
        media_type="application/vnd.oci.image.index.v1+json",
        created=datetime(2026, 11, 25, tzinfo=UTC),
        labels=labels,
        platforms=("linux/amd64",),
        size=1_000,
    )


def notes_for(attack: str) -> list[str]:
    """Every note that shows outside data, each carrying the attack in another field."""
    hostile_platform = replace(meta(), platforms=("linux/amd64", attack), platform=attack)
    return [
        describe("nginx", "1.27", None, meta(**{VERSION: attack})),
        describe("nginx", "1.28", meta(**{VERSION: "1.0"}), meta(**{VERSION: attack})),
        describe("redis", "7", meta(**{REVISION: REV}), meta(**{REVISION: attack, SOURCE: attack})),
        describe("redis", "8", None, meta(**{REVISION: attack, SOURCE: "https://github.com/acme/api"})),
        describe("alpine", "3", meta(), hostile_platform),
        describe("alpine", "4", None, hostile_platform),
        describe("busybox", "1", meta(**{BASE_NAME: "debian"}), meta(**{BASE_NAME: attack})),
        describe("busybox", "2", None, meta(**{BASE_NAME: attack, BASE_DIGEST: attack})),
        describe("busybox", "3", meta(), meta(**{BASE_DIGEST: attack}), old_digest=attack),
        *add_lines([], "nginx", "1.29", [moved_line([(attack, None)], attack)]),
    ]


@pytest.mark.parametrize("attack", ATTACKS)
def test_a_pull_request_body_shows_outside_data_only_as_text(attack: str) -> None:
    updates = [
        Update(f"deploy/{attack}.yaml", 3, "nginx", "1.27", None, D1),
        Update("Dockerfile", 1, "redis", "7", D0, D1),
    ]
    state = PullState(tuple(updates), base="b" * 40, commit="c" * 40, blobs={attack: "d" * 40})
    body = prbody.render(updates, state, notes_for(attack))
    assert_inert(render(body))
    assert body.count("<!--") == 1 and body.count("-->") == 1
    assert prbody.parse_state(body) == state


@pytest.mark.parametrize("attack", ATTACKS)
def test_the_comment_on_a_moved_tag_shows_outside_data_only_as_text(attack: str) -> None:
    comment = prbody.moved_comment([Move("nginx", "1.27", attack, attack)], attack)
    assert "<!--" not in comment and "-->" not in comment
    assert_inert(render(comment))


@pytest.mark.parametrize("attack", ATTACKS)
def test_the_audit_report_shows_outside_data_only_as_text(attack: str) -> None:
    scanned = scan_text("Dockerfile", "FROM nginx:1.27\n").occurrences
    hostile = [replace(o, file=f"{attack}/Dockerfile") for o in scanned]
    report = AuditReport(
        repositories=[
            audit_repository("acme/web", hostile, PolicyConfig(), warnings=[attack]),
            AuditedRepository("acme/api", failure=attack),
        ],
        skipped={"acme/old": attack},
        lookup_errors=[attack],
    )
    text = markdown.audit(report)
    assert "<!--" not in text and "-->" not in text
    assert_inert(render(text), headings=("h2", "h3"))
    assert len(re.findall(r"<h2>", render(text))) == 1  # "pinbot audit" only


# --- end to end: an image pushed with hostile labels, the pull request on the GitHub fake ---

HOSTILE_LABELS = {
    VERSION: '1.0` @octocat <!-- pinbot:state {"version":1',
    REVISION: "[click me](https://evil.example/)",
    SOURCE: "https://github.com/acme/api) [click me](https://evil.example/",
    BASE_NAME: "debian\n## Reviewed by the security team, safe to merge",
    BASE_DIGEST: "<img src=x onerror=alert(1)>",
}


def _run(fake: GitHubFake, config: Config, repository: str) -> RunSummary:
    args = build_parser().parse_args(["run", "--repo", repository, "--write-interval", "0"])
    return run_library(config, Credentials(token=fake.token, api_url=fake.url), run_options(args))


def test_a_pull_request_for_an_image_with_hostile_labels_has_no_markup_from_them(
    tmp_path: Path, registry_http: RunningRegistry
) -> None:
    image = "acme/hostile-labels"
    registry_http.push_multiarch(
        image,
        "1.0",
        [("linux", "amd64", None), ("linux", "arm", "v7`<img src=x>@octocat")],
        labels=HOSTILE_LABELS,
    )
    path = tmp_path / "pinbot.yaml"
    path.write_text(f"registries:\n  {registry_http.host}:\n    insecure: true\n", encoding="utf-8")
    config = load_config(path)
    with GitHubFake() as fake:
        fake.create_org("acme")
        dockerfile = f"FROM {registry_http.ref(image, '1.0')}\n".encode()
        fake.create_repo("acme", "web", {"Dockerfile": dockerfile})

        first = _run(fake, config, "acme/web")
        assert not first.failures, run_summary.text(first)
        [pull] = fake.pulls("acme", "web")
        body = pull.body
        assert body is not None and "<details>" in body  # the notes are there
        assert "octocat" in body and "click me" in body  # shown, as text
        assert_inert(render(body))
        assert body.count("<!--") == 1 and body.rstrip().endswith("-->")
        state = prbody.parse_state(body)
        assert state is not None and [u.file for u in state.updates] == ["Dockerfile"]

        # The state reads back, so the next run has nothing to rewrite.
        fake.reset_calls()
        second = _run(fake, config, "acme/web")
        assert not second.failures, run_summary.text(second)
        assert fake.write_calls() == []
        assert fake.pulls("acme", "web")[0].body == body


def test_a_huge_label_never_makes_the_pull_request_call_fail(
    tmp_path: Path, registry_http: RunningRegistry
) -> None:
    # 40,000 astral characters: under 60,000 code points, 80,000 as GitHub may count them.
    image = "acme/huge-label"
    registry_http.push_image(image, "1.0", labels={VERSION: "\U0001f308" * 40_000})
    path = tmp_path / "pinbot.yaml"
    path.write_text(f"registries:\n  {registry_http.host}:\n    insecure: true\n", encoding="utf-8")
    config = load_config(path)
    with GitHubFake() as fake:
        fake.create_org("acme")
        dockerfile = f"FROM {registry_http.ref(image, '1.0')}\n".encode()
        fake.create_repo("acme", "web", {"Dockerfile": dockerfile})

        summary = _run(fake, config, "acme/web")

        assert not summary.failures, run_summary.text(summary)
        [pull] = fake.pulls("acme", "web")
        assert pull.body is not None
        assert len(pull.body.encode("utf-16-le")) // 2 <= prbody.MAX_BODY
        assert "\U0001f308" * 100 in pull.body and "…`" in pull.body  # shown, shortened
        assert isinstance(prbody.read_state(pull.body), PullState)
