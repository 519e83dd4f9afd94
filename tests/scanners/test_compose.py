"""The Compose scanner: service images, anchors and merge keys, interpolation, and traps."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pinbot.scanners import ScanError, Status, scan_text
from pinbot.scanners.compose import BUILT_HERE, SCANNER, is_compose_name
from tests.scanners.tables.compose import BASIC, CORPUS
from tests.support.corpus import scan_corpus_file


def test_interpolation_is_templated() -> None:
    outcome = scan_text("compose.yaml", BASIC, scanners=[SCANNER])
    status = {o.text: o.status for o in outcome.occurrences}
    assert status == {
        "nginx:1.27": Status.UNPINNED,
        "acme/api:${TAG:-latest}": Status.TEMPLATED,
        "postgres:16@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef": Status.PINNED,
    }


BUILT = """\
x-app: &app
  image: acme/app:1.0
services:
  etl:
    image: etl-kafka
    build:
      context: etl
  web:
    image: nginx:1.27
    build: .
  pulled:
    image: postgres:16
    build: null
  app:
    <<: *app
  app-dev:
    <<: *app
    build: .
  dev:
    image: acme/dev:${TAG:-latest}
    build: .
"""


def test_build_output_is_reported_not_rewritten() -> None:
    findings = {BUILT[f.start : f.end]: f for f in SCANNER.scan("compose.yaml", BUILT)}
    assert {text: (f.rewritable, f.note) for text, f in findings.items()} == {
        "etl-kafka": (False, BUILT_HERE),
        "nginx:1.27": (False, BUILT_HERE),
        "postgres:16": (True, None),  # `build: null` builds nothing
        # One anchor for a pulled and a built service: pinning it would tag the build.
        "acme/app:1.0": (False, BUILT_HERE),
        # Templated already: the driver marks it, the note stays free for that.
        "acme/dev:${TAG:-latest}": (True, None),
    }
    outcome = scan_text("compose.yaml", BUILT, scanners=[SCANNER])
    assert {o.text: o.status for o in outcome.occurrences}["etl-kafka"] is Status.UNPINNED
    assert [o.text for o in outcome.occurrences if o.rewritable] == ["postgres:16"]


def test_compose_file_names_are_recognised() -> None:
    for name in (
        "compose.yaml",
        "compose.yml",
        "compose.prod.yaml",
        "docker-compose.yml",
        "a/b/docker-compose-dev.yaml",
        "docker-compose.override.yml",
    ):
        assert is_compose_name(name), name
    for name in ("values.yaml", "compose.json", "mycompose.yaml", "docker-compose/db.yml"):
        assert not is_compose_name(name), name


def test_broken_compose_file_raises_other_yaml_is_left_alone() -> None:
    broken = "services:\n  web:\n    image: [nginx\n"
    with pytest.raises(ScanError):
        list(SCANNER.scan("compose.yaml", broken))
    assert list(SCANNER.scan("notes.yaml", broken)) == []


@given(
    quote=st.sampled_from(["", '"', "'"]),
    indent=st.integers(min_value=1, max_value=5),
    comment=st.booleans(),
    newline=st.sampled_from(["\n", "\r\n"]),
    image=st.from_regex(r"[a-z][a-z0-9]{0,6}(/[a-z0-9]{1,6})?(:[a-z0-9.]{1,6})?", fullmatch=True),
)
def test_span_holds_the_reference(
    quote: str, indent: int, comment: bool, newline: str, image: str
) -> None:
    pad = " " * indent
    text = newline.join(
        [
            "# top",
            "services:",
            f"{pad}app:",
            f"{pad}{pad}image: {quote}{image}{quote}" + (" # c" if comment else ""),
        ]
    )
    (finding,) = SCANNER.scan("compose.yml", text)
    assert text[finding.start : finding.end] == image
    assert finding.context == "services.app.image"


BUILT_IN_CORPUS = {
    "docker__awesome-compose/wasmedge-kafka-mysql/compose.yml": ["etl-kafka"],
    "docker__awesome-compose/wasmedge-mysql-nginx/compose.yml": ["demo-microservice"],
}


@pytest.mark.corpus
@pytest.mark.parametrize("relative", CORPUS)
def test_real_files_name_the_image_inside_the_reference(relative: str) -> None:
    occurrences = [o for o in scan_corpus_file(relative) if o.kind == "compose"]
    assert all(o.text and o.text in o.reference_text for o in occurrences)


@pytest.mark.corpus
@pytest.mark.parametrize("relative", BUILT_IN_CORPUS)
def test_images_real_compose_files_build_are_reported_not_rewritable(relative: str) -> None:
    occurrences = [o for o in scan_corpus_file(relative) if o.kind == "compose"]
    built = [o.text for o in occurrences if o.note == BUILT_HERE]
    assert built == BUILT_IN_CORPUS[relative]
    assert not any(o.rewritable for o in occurrences if o.note == BUILT_HERE)
