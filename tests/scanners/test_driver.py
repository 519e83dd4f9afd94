"""The scan driver: status, templating, ignore comments and globs, positions, errors, links."""

from __future__ import annotations

import re
from collections.abc import Collection, Iterator, Mapping
from pathlib import Path

import pytest

import pinbot.scanners._registry
from pinbot.errors import Problem, ProblemKind
from pinbot.scanners import (
    Finding,
    LinkingScanner,
    Status,
    all_scanners,
    candidate_paths,
    is_templated,
    scan_bytes,
    scan_files,
    scan_text,
    scan_tree,
)


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
def test_every_templating_syntax_is_recognised_and_plain_references_are_not(
    text: str, templated: bool
) -> None:
    assert is_templated(text) is templated


def statuses(path: str, text: str, **kw: object) -> list[tuple[str, str]]:
    return [(o.text, o.status.value) for o in scan_text(path, text, **kw).occurrences]  # type: ignore[arg-type]


def test_status_follows_the_reference_parse() -> None:
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


def unreadable(file: str, line: int | None, message: str) -> Problem:
    return Problem(ProblemKind.UNREADABLE_FILE, message, file=file, line=line)


@pytest.mark.parametrize(
    ("data", "line"),
    [
        (b"FROM a:1\n# caf\xe9 (Latin-1)\n", 2),
        ("FROM alpine:3\n".encode("utf-16"), 1),
        (b"FROM a:1\nFROM b:2\n\n# \xff\n", 4),
    ],
    ids=["latin-1", "utf-16", "stray-byte"],
)
def test_a_file_that_is_not_utf8_is_a_problem_at_its_line(data: bytes, line: int) -> None:
    outcome = scan_bytes("Dockerfile", data)
    assert outcome.occurrences == []
    problem = unreadable("Dockerfile", line, "not UTF-8 text; file left unchanged")
    assert outcome.errors == [problem]
    assert str(problem) == f"Dockerfile:{line}: not UTF-8 text; file left unchanged"


def test_a_broken_yaml_file_is_one_problem_at_its_line() -> None:
    outcome = scan_text("compose.yaml", "services:\n  web:\n    image: [nginx\n")
    (problem,) = outcome.errors
    assert (problem.kind, problem.file, problem.line) == (ProblemKind.UNREADABLE_FILE, "compose.yaml", 4)
    assert problem.message.endswith("; file left unchanged")
    assert str(problem).startswith("compose.yaml:4: cannot parse YAML: ")


@pytest.mark.parametrize(
    ("path", "text", "line"),
    [
        ("compose.yaml", "services:\n  web:\n    image: " + "[" * 300 + "]" * 300 + "\n", 3),
        # past what libyaml's composer may recurse into: measured from the parser's events
        ("compose.yaml", "a: 1\nb:\n  c: " + "[" * 6000 + "]" * 6000 + "\n", 3),
        # libyaml refuses `acme/api:cache` in a flow; the pure composer recurses past its limit
        ("compose.yaml", "a: 1\nb:\n  c: " + "[" * 500 + "acme/api:cache" + "]" * 500 + "\n", 3),
        ("compose.yaml", "x: 1\ny:\n" + "".join("  " * i + "- \n" for i in range(1, 300)), 202),
        (".devcontainer/devcontainer.json", '{\n"a":\n' + "[" * 300, 3),
        ("docker-bake.hcl", 'target "a" {\n' + "x {\n" * 150, 101),
        ("jobs/web.nomad", 'job "a" {\n' + "x {\n" * 150, 101),
    ],
    ids=["yaml-flow", "yaml-flow-past-libyaml", "yaml-pure", "yaml-block", "jsonc", "bake", "nomad"],
)
def test_nesting_too_deep_is_a_problem_at_its_line(path: str, text: str, line: int) -> None:
    (problem,) = scan_text(path, text).errors
    assert (problem.kind, problem.file, problem.line) == (ProblemKind.UNREADABLE_FILE, path, line)
    assert "nested too deeply" in problem.message


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


class Pairing:
    """Finds `a:1`; read with other files, also any `x:1` that another file names too."""

    kind = "pairing"

    def matches(self, path: str) -> bool:
        return path.endswith(".pair")

    def scan(self, path: str, text: str) -> Iterator[Finding]:
        for match in re.finditer(r"a:1", text):
            yield Finding(match.start(), match.end(), "own")

    def link(self, files: Mapping[str, str], paths: Collection[str]) -> dict[str, list[Finding]]:
        found: dict[str, list[Finding]] = {}
        for path in paths:
            text = files[path]
            others = " ".join(other for name, other in files.items() if name != path)
            for match in re.finditer(r"\w:1", text):
                if match.group() in others:
                    found.setdefault(path, []).append(Finding(match.start(), match.end(), "shared"))
        return found


@pytest.fixture
def pairing(monkeypatch: pytest.MonkeyPatch) -> Pairing:
    scanner = Pairing()
    monkeypatch.setattr(pinbot.scanners._registry, "SCANNERS", (scanner,))
    return scanner


def test_only_scanners_with_a_link_method_link() -> None:
    linking = {scanner.kind for scanner in all_scanners() if isinstance(scanner, LinkingScanner)}
    assert linking == {"gitlab-ci"}
    assert isinstance(Pairing(), LinkingScanner)


def test_files_scanned_together_get_the_links_and_a_span_is_reported_once(pairing: Pairing) -> None:
    files = {"two.pair": b"a:1 b:1\n", "one.pair": b"a:1 b:1 c:1\n", "bad.pair": b"b:1 \xff\n"}
    outcomes = scan_files(files)
    assert list(outcomes) == ["bad.pair", "one.pair", "two.pair"]
    assert [str(e) for e in outcomes["bad.pair"].errors] == [
        "bad.pair:1: not UTF-8 text; file left unchanged"
    ]
    for path in ("one.pair", "two.pair"):
        found = [(o.text, o.context) for o in outcomes[path].occurrences]
        assert found == [("a:1", "own"), ("b:1", "shared")]
    # Alone, a file shows only its own; given its set, exactly what `scan_files` reported.
    text = files["one.pair"].decode()
    assert [o.context for o in scan_text("one.pair", text).occurrences] == ["own"]
    texts = {path: data.decode() for path, data in files.items() if path != "bad.pair"}
    assert scan_text("one.pair", text, linked=texts) == outcomes["one.pair"]


def test_a_tree_is_scanned_as_one_set(tmp_path: Path) -> None:
    ci = tmp_path / ".gitlab" / "ci"
    ci.mkdir(parents=True)
    (ci / "common.yml").write_text("variables:\n  LINT_IMAGE: lint:1\n")
    (ci / "jobs.yml").write_text("lint:\n  image: $LINT_IMAGE\n  script: [x]\n")
    result = scan_tree(tmp_path)
    assert [(o.file, o.text, o.status) for o in result.occurrences] == [
        (".gitlab/ci/common.yml", "lint:1", Status.UNPINNED),
        (".gitlab/ci/jobs.yml", "$LINT_IMAGE", Status.TEMPLATED),
    ]
    assert result.files_scanned == 2


def test_an_ignore_comment_where_the_digest_would_be_written_also_counts() -> None:
    text = (
        "# pinbot: ignore\n"
        "ARG BASE_TAG=3.20\n"
        "FROM alpine:${BASE_TAG} AS one\n"
        "FROM alpine:${BASE_TAG}\n"
    )
    assert [o.status for o in scan_text("Dockerfile", text).occurrences] == [
        Status.IGNORED,
        Status.IGNORED,
    ]
    plain = text.replace("# pinbot: ignore\n", "")
    assert [o.status for o in scan_text("Dockerfile", plain).occurrences] == [
        Status.UNPINNED,
        Status.UNPINNED,
    ]


def test_a_scanner_that_breaks_on_a_file_costs_that_scanner_in_that_file_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Every scanner is fuzzed, but a file nobody thought of may still meet a bug: it must
    # cost what that scanner would have found there, said as a problem, not the whole scan.
    from pinbot.scanners import dockerfile

    real = dockerfile.SCANNER.scan

    def buggy(path: str, text: str) -> Iterator[Finding]:
        if "trigger" in text:
            raise IndexError("list index out of range")
        return real(path, text)

    monkeypatch.setattr(dockerfile.SCANNER, "scan", buggy)
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "Dockerfile").write_text("FROM nginx:1.27\n")
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "Dockerfile").write_text("# trigger\nFROM redis:7\n")
    (tmp_path / "b" / "compose.yaml").write_text("services:\n  web:\n    image: alpine:3.20\n")

    scanned = scan_tree(tmp_path, workers=1)

    assert [(o.file, o.text) for o in scanned.occurrences] == [
        ("a/Dockerfile", "nginx:1.27"),
        ("b/compose.yaml", "alpine:3.20"),
    ]
    (problem,) = scanned.errors
    assert (problem.kind, problem.file, problem.line) == (
        ProblemKind.UNREADABLE_FILE,
        "b/Dockerfile",
        None,
    )
    assert problem.message == (
        "the dockerfile scanner failed on it (IndexError: list index out of range); "
        "file left unchanged"
    )


@pytest.mark.parametrize("workers", [1, 2])
def test_a_linking_scanner_that_breaks_costs_the_links_it_would_have_found_said_per_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, workers: int
) -> None:
    from pinbot.scanners import gitlab_ci

    def buggy(files: Mapping[str, str], paths: Collection[str]) -> dict[str, list[Finding]]:
        raise KeyError("BUILD_IMAGE")

    monkeypatch.setattr(gitlab_ci.SCANNER, "link", buggy)
    (tmp_path / "ci").mkdir()
    (tmp_path / "ci" / "vars.gitlab-ci.yml").write_text("variables:\n  BUILD_IMAGE: golang:1.22\n")
    (tmp_path / "ci" / "build.gitlab-ci.yml").write_text("build:\n  image: $BUILD_IMAGE\n")
    (tmp_path / "Dockerfile").write_text("FROM alpine:3.20\n")
    files = {p: (tmp_path / p).read_bytes() for p in candidate_paths(tmp_path)}

    scanned = scan_tree(tmp_path, workers=workers)
    together = scan_files(files)

    assert [(o.file, o.text) for o in scanned.occurrences] == [
        ("Dockerfile", "alpine:3.20"),
        ("ci/build.gitlab-ci.yml", "$BUILD_IMAGE"),
    ]
    message = (
        "the gitlab-ci scanner failed linking it to the other files (KeyError: 'BUILD_IMAGE'); "
        "what it names through them is not read"
    )
    assert [(p.kind, p.file, p.message) for p in scanned.errors] == [
        (ProblemKind.UNREADABLE_FILE, "ci/build.gitlab-ci.yml", message),
        (ProblemKind.UNREADABLE_FILE, "ci/vars.gitlab-ci.yml", message),
    ]
    assert [p for outcome in together.values() for p in outcome.errors] == scanned.errors
