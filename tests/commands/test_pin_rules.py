"""`pinbot pin` with per-image `rules:`: the first rule matching an occurrence (its image and
path) decides its `min-age`, `platforms` and `ignore` over the global keys."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from pinbot.config import load_config_text
from tests.support.registry import RunningRegistry


def pinbot(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pinbot", *map(str, args)], capture_output=True, text=True, timeout=120
    )


def test_the_first_matching_rule_decides_each_occurrence(tmp_path: Path, registry_http: RunningRegistry) -> None:
    reg = registry_http
    recent = (datetime.now(UTC) - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    old = {name: reg.push_image(f"rules/{name}", "1.0", seed="old").digest for name in ("own", "third", "skipped")}
    new = {
        name: reg.push_image(f"rules/{name}", "1.0", seed="new", created=recent).digest
        for name in ("own", "third")
    }
    host = reg.host
    root = tmp_path / "repo"
    (root / "deploy").mkdir(parents=True)
    (root / "tools").mkdir()
    (root / "deploy" / "Dockerfile").write_text(
        f"FROM {host}/rules/own:1.0@{old['own']}\n"
        f"FROM {host}/rules/third:1.0@{old['third']}\n"
        f"FROM {host}/rules/skipped:1.0@{old['skipped']}\n"
        f"FROM {host}/rules/skipped:2.0\n"
    )
    (root / "tools" / "Dockerfile").write_text(f"FROM {host}/rules/own:1.0@{old['own']}\n")
    config = tmp_path / "pinbot.yaml"
    config.write_text(
        f'registries:\n  "{host}":\n    insecure: true\n'
        "rules:\n"
        f'  - images: ["{host}/rules/own"]\n    paths: ["deploy/*"]\n    min-age: 0s\n'
        f'  - images: ["*/rules/skipped"]\n    ignore: true\n'
        '  - images: ["*"]\n    min-age: 3d\n'
    )
    reg.reset_counts()
    result = pinbot("pin", root, "--config", config, "--state", tmp_path / "state.json", "--format", "json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert [(e["file"], e["line"], e["new_digest"]) for e in report["edits"]] == [
        ("deploy/Dockerfile", 1, new["own"])
    ]
    assert sorted((w["file"], w["line"], w["new_digest"]) for w in report["waiting"]) == [
        ("deploy/Dockerfile", 2, new["third"]),
        ("tools/Dockerfile", 1, new["own"]),  # the same image outside deploy/: the catch-all rule
    ]
    # An ignored image is not looked up, pinned or noted, wherever its tag.
    assert not any("/rules/skipped/" in path for _, path in reg.requests_seen())
    assert report["notes"] == [] and report["errors"] == []
    checked = json.loads(pinbot("check", root, "--config", config, "--format", "json").stdout)
    assert [f["line"] for f in checked if "skipped" in f["message"]] == []


@pytest.mark.parametrize(
    ("name", "attribute", "value"),
    [
        ("group: base", "group", "base"),
        ("automerge: true", "automerge", True),
        ("labels: [x]", "labels", ("x",)),
        ("reviewers: [octo]", "reviewers", ("octo",)),
    ],
)
def test_rule_keys_for_pull_requests_are_read_for_the_bot(
    name: str, attribute: str, value: object
) -> None:
    [rule] = load_config_text(f"rules:\n  - images: ['*']\n    {name}\n", "pinbot.yaml").rules
    assert getattr(rule, attribute) == value
