"""The scan driver: status, templating, ignore comments and globs, positions, errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from pinbot.scanners import Status, candidate_paths, is_templated, scan_bytes, scan_text, scan_tree


@pytest.mark.parametrize(
    ("text", "templated"),
    [
        ("nginx:1.27", False),
        ("ghcr.io/a/b:1@sha256:" + "0" * 64, False),
        ("nginx:${TAG}", True),
        ("${REGISTRY:-docker.io}/nginx:1", True),
        ("$IMAGE", True),
        ("$(params.image)", True),
        ("{{ .Values.image }}", True),
        ("{% if x %}", True),
        ("$[[ inputs.image ]]", True),
        ("cimg/node:<< parameters.tag >>", True),
        ("<%= image %>", True),
    ],
)
def test_templating_is_recognised(text: str, templated: bool) -> None:
    assert is_templated(text) is templated


def statuses(path: str, text: str, **kw: object) -> list[tuple[str, str]]:
    return [(o.text, o.status.value) for o in scan_text(path, text, **kw).occurrences]  # type: ignore[arg-type]


def test_statuses() -> None:
    digest = "sha256:" + "1" * 64
    text = f"FROM nginx:1.27\nFROM alpine@{digest}\nFROM Nginx:1\nFROM a:${{V}}\n"
    assert statuses("Dockerfile", text) == [
        ("nginx:1.27", "unpinned"),
        (f"alpine@{digest}", "pinned"),
        ("Nginx:1", "invalid"),
        ("a:${V}", "templated"),
    ]


def test_ignore_comment_on_the_line_or_the_line_above() -> None:
    text = "FROM a:1 # pinbot: ignore\n# pinbot: ignore\nFROM b:1\nFROM c:1\n"
    assert statuses("Dockerfile", text) == [("a:1", "ignored"), ("b:1", "ignored"), ("c:1", "unpinned")]


def test_ignore_images_globs_match_any_spelling() -> None:
    text = "FROM nginx:1\nFROM docker.io/library/redis:7\nFROM ghcr.io/acme/internal-x:2\nFROM ghcr.io/acme/api:3\n"
    result = statuses("Dockerfile", text, ignore_images=("nginx", "docker.io/library/redis", "*/internal-*"))
    assert [s for _, s in result] == ["ignored", "ignored", "ignored", "unpinned"]


def test_positions_in_characters_and_bytes() -> None:
    data = "\ufeff# é\r\nFROM  nginx:1\r\n".encode()
    (o,) = scan_bytes("Dockerfile", data).occurrences
    assert (o.line, o.column) == (2, 7)
    assert data[o.byte_start : o.byte_end] == b"nginx:1"
    assert o.location == "Dockerfile:2:7"


def test_files_that_are_not_utf8_are_reported_and_skipped() -> None:
    outcome = scan_bytes("Dockerfile", b"FROM a:1\n# \xff\n")
    assert outcome.occurrences == []
    assert outcome.errors == ["Dockerfile:2: not UTF-8 text; file left unchanged"]


def test_a_broken_yaml_file_is_reported_once_with_its_line() -> None:
    outcome = scan_text("compose.yaml", "services:\n  web:\n    image: [nginx\n")
    assert len(outcome.errors) == 1
    assert outcome.errors[0].startswith("compose.yaml:")
    assert "file left unchanged" in outcome.errors[0]


def test_tree_walk_skips_vendored_folders_and_ignored_paths(tmp_path: Path) -> None:
    for relative in ["Dockerfile", "node_modules/x/Dockerfile", ".git/Dockerfile", "vendor/Dockerfile", "README.md"]:
        path = tmp_path / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("FROM nginx:1\n")
    assert candidate_paths(tmp_path) == ["Dockerfile", "vendor/Dockerfile"]
    result = scan_tree(tmp_path, ignore_paths=("vendor/*",))
    assert [o.file for o in result.occurrences] == ["Dockerfile"]
    assert result.files_scanned == 1
    assert result.occurrences[0].status is Status.UNPINNED
