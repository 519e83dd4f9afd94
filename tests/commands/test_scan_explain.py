"""`pinbot scan --explain`: what was seen and not reported is listed with its reason."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from pinbot.scanners import scan_files
from pinbot.scanners._explain import explain_files

ROOT = Path(__file__).resolve().parents[2]

FILES = {
    "Dockerfile": "ARG BASE=build\nFROM golang:1.22 AS build\nFROM $BASE\nCOPY --from=build /a /a\n",
    "deploy/pod.yaml": (
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n"
        "  containers: [{name: a, image: 'alpine:3.20'}]\n"
        "status:\n  containerStatuses: [{image: 'alpine:3.20'}]\n"
    ),
    "quadlet/web.container": "[Container]\nImage=base.image\n",
    "quadlet/app.build": "[Build]\nImageTag=localhost/app:latest\nFile=Containerfile\n",
}


@pytest.fixture()
def tree(tmp_path: Path) -> Path:
    for relative, text in FILES.items():
        path = tmp_path / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return tmp_path


def scan(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pinbot", "scan", str(root), *args],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        check=False,
    )


@pytest.mark.slow
def test_text_lists_references_and_skipped_text_in_file_order(tree: Path) -> None:
    done = scan(tree, "--explain")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "Dockerfile:1:10\tdockerfile\tskipped\tbuild  (FROM line 3 reads it, and it names the "
        "earlier build stage build, not an image)",
        "Dockerfile:2:6\tdockerfile\tunpinned\tgolang:1.22",
        "Dockerfile:3:6\tdockerfile\tskipped\t$BASE  (ARG BASE defaults to build, which names "
        "the earlier build stage build, not an image)",
        "Dockerfile:4:13\tdockerfile\tskipped\tbuild  (a build stage's name, not an image)",
        "deploy/pod.yaml:5:34\tkubernetes\tunpinned\talpine:3.20",
        "deploy/pod.yaml:7:32\tkubernetes\tskipped\talpine:3.20  (a status field: what the "
        "cluster reports it ran, not what it pulls)",
        "quadlet/app.build:2:10\tquadlet\tskipped\tlocalhost/app:latest  (the name the build "
        "gives the image it makes: an output, not pulled)",
        "quadlet/web.container:2:7\tquadlet\tskipped\tbase.image  (names the Quadlet unit "
        "base.image: the image is the one that unit pulls)",
    ]


@pytest.mark.slow
def test_json_gives_skipped_text_the_keys_of_a_reference(tree: Path) -> None:
    done = scan(tree, "--explain", "--format", "json")
    assert done.returncode == 0, done.stderr
    records = json.loads(done.stdout)
    keys = {tuple(sorted(record)) for record in records}
    assert len(keys) == 1  # one shape for both
    skipped = [r for r in records if r["status"] == "skipped"]
    assert [(r["file"], r["text"], r["context"]) for r in skipped] == [
        ("Dockerfile", "build", "ARG BASE"),
        ("Dockerfile", "$BASE", "FROM"),
        ("Dockerfile", "build", "COPY --from"),
        ("deploy/pod.yaml", "alpine:3.20", "status.containerStatuses[0].image"),
        ("quadlet/app.build", "localhost/app:latest", "[Build] ImageTag"),
        ("quadlet/web.container", "base.image", "[Container] Image"),
    ]
    assert all(r["reference"] is None and r["rewritable"] is False and r["note"] for r in skipped)
    data = (tree / "deploy/pod.yaml").read_bytes()
    status = skipped[3]
    assert data[status["span"][0] : status["span"][1]] == b"alpine:3.20"


@pytest.mark.slow
def test_without_explain_nothing_skipped_is_listed(tree: Path) -> None:
    done = scan(tree, "--format", "json")
    assert {r["status"] for r in json.loads(done.stdout)} == {"unpinned"}


def test_text_another_scanner_reports_is_not_explained_away() -> None:
    # Dismissed text that some scanner reports after all (the same span, or overlapping it)
    # is that scanner's reference, and is not explained away.
    files = {"Dockerfile": b"FROM golang:1.22 AS build\nFROM build\n"}
    reported = scan_files(files)["Dockerfile"].occurrences
    [stage] = explain_files(files, reported)
    assert (stage.text, stage.line, stage.column) == ("build", 2, 6)
    covering = replace(reported[0], start=stage.start, end=stage.end)
    assert explain_files(files, [*reported, covering]) == []


@pytest.mark.slow
def test_hostile_text_is_escaped_in_the_terminal(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text(
        "FROM golang:1.22 AS b\x1b[31m\nFROM b\x1b[31m\n", encoding="utf-8"
    )
    done = scan(tmp_path, "--explain")
    assert "\x1b" not in done.stdout
    assert "b\\x1b[31m" in done.stdout
