"""Bitbucket Pipelines scanner: build image, step images, service definitions, docker:// pipes."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from pinbot.scanners import Status, scan_text
from pinbot.scanners.bitbucket import SCANNER

PIPELINES = "bitbucket-pipelines.yml"


def test_a_substituted_tag_is_templated() -> None:
    text = "image: node:20\npipelines:\n  default:\n    - step:\n        image: acme/ci:${TAG}\n        script: [x]\n"
    outcome = scan_text(PIPELINES, text)
    assert [(o.kind, o.status) for o in outcome.occurrences] == [
        ("bitbucket-pipelines", Status.UNPINNED),
        ("bitbucket-pipelines", Status.TEMPLATED),
    ]


@given(
    quote=st.sampled_from(["", "'", '"']),
    comment=st.sampled_from(["", "  # Default image"]),
    newline=st.sampled_from(["\n", "\r\n"]),
    indent=st.integers(min_value=1, max_value=5),
    reference=st.sampled_from(["atlassian/default-image:4", "r.io/a/b@sha256:" + "1" * 64]),
)
def test_span_holds_the_reference(
    quote: str, comment: str, newline: str, indent: int, reference: str
) -> None:
    pad = " " * indent
    lines = [
        "pipelines:",
        f"{pad}default:",
        f"{pad * 2}- step:",
        f"{pad * 2}    image: {quote}{reference}{quote}{comment}",
        f"{pad * 2}    script: [x]",
    ]
    text = newline.join(lines) + newline
    assert [text[f.start : f.end] for f in SCANNER.scan(PIPELINES, text)] == [reference]


