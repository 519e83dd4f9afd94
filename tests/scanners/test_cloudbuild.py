"""Cloud Build scanner: each step's builder image, in YAML and JSON."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from pinbot.scanners import Status, scan_text
from pinbot.scanners.cloudbuild import SCANNER


def test_substitutions_are_templated() -> None:
    outcome = scan_text("cloudbuild.yaml", "steps:\n- name: $_BUILDER\n")
    assert [(o.kind, o.status) for o in outcome.occurrences] == [("cloudbuild", Status.TEMPLATED)]


@given(
    quote=st.sampled_from(["", "'", '"']),
    newline=st.sampled_from(["\n", "\r\n"]),
    indent=st.integers(min_value=0, max_value=4),
)
def test_span_holds_the_reference(quote: str, newline: str, indent: int) -> None:
    pad = " " * indent
    text = (
        newline.join(
            [
                "steps:",
                f"{pad}- name: {quote}gcr.io/cloud-builders/npm:20{quote}",
                f"{pad}  args: [ci]",
            ]
        )
        + newline
    )
    assert [text[f.start : f.end] for f in SCANNER.scan("cloudbuild.yaml", text)] == [
        "gcr.io/cloud-builders/npm:20"
    ]


