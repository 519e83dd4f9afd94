"""The deployment files: the Action, the example workflows, the image and the CronJob.

Each is checked for structure, and the command it would run is executed with a stand-in
`pinbot` on PATH and then parsed by pinbot's own command-line parser.
"""

from __future__ import annotations

import os
import re
import stat
import subprocess
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from pinbot.cli import build_parser
from pinbot.scanners import Status, scan_bytes

DEPLOY = Path(__file__).resolve().parents[1] / "deploy"


def load(path: Path) -> Any:
    return YAML(typ="safe").load(path.read_text())


@pytest.fixture
def fake_pinbot(tmp_path: Path) -> tuple[Path, Path]:
    """A `pinbot` stand-in that records its arguments one per line."""
    record = tmp_path / "args"
    script = tmp_path / "bin" / "pinbot"
    script.parent.mkdir()
    script.write_text(f'#!/bin/sh\nfor a in "$@"; do printf "%s\\n" "$a"; done > {record}\n')
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return script.parent, record


def run_recorded(command: list[str], env: dict[str, str], fake: tuple[Path, Path]) -> list[str]:
    bin_dir, record = fake
    full_env = {**os.environ, **env, "PATH": f"{bin_dir}:{os.environ['PATH']}"}
    subprocess.run(command, env=full_env, check=True)
    return record.read_text().splitlines()


def test_action_inputs_are_documented_and_passed_to_pinbot(fake_pinbot: tuple[Path, Path]) -> None:
    action = load(DEPLOY / "action.yml")
    assert action["runs"]["using"] == "composite"
    for name, spec in action["inputs"].items():
        assert spec.get("description"), f"input {name} has no description"
    run_step = next(s for s in action["runs"]["steps"] if "pinbot" in s.get("run", "") and "args" in s.get("run", ""))
    used = set(re.findall(r"inputs\.([\w-]+)", str(run_step["env"])))
    assert used == set(action["inputs"]) - {"python-version"}

    env = {
        "PINBOT_REPOS": "acme/web acme/api",
        "PINBOT_ORG": "",
        "PINBOT_INCLUDE": "",
        "PINBOT_EXCLUDE": "",
        "PINBOT_SHARD": "1/4",
        "PINBOT_CONFIG": ".github/pinbot.yaml",
        "PINBOT_DRY_RUN": "true",
        "PINBOT_CACHE_DIR": ".pinbot-cache",
    }
    args = run_recorded(["bash", "-c", run_step["run"]], env, fake_pinbot)
    assert args == [
        "run", "--repo", "acme/web", "--repo", "acme/api", "--shard", "1/4",
        "--config", ".github/pinbot.yaml", "--cache-dir", ".pinbot-cache", "--dry-run",
    ]
    parsed = build_parser().parse_args(args)
    assert parsed.command == "run" and parsed.dry_run is True


def test_example_workflow_runs_on_schedule_and_by_hand() -> None:
    workflow = load(DEPLOY / "workflows" / "pinbot.yml")
    assert set(workflow["on"]) == {"schedule", "workflow_dispatch"}
    assert workflow["permissions"] == {"contents": "write", "pull-requests": "write"}
    steps = workflow["jobs"]["pin"]["steps"]
    action_step = next(s for s in steps if "pinbot/deploy" in s.get("uses", ""))
    assert action_step["with"]["token"] == "${{ secrets.GITHUB_TOKEN }}"


def test_organisation_workflow_shards_cover_every_index_once() -> None:
    workflow = load(DEPLOY / "workflows" / "pinbot-org.yml")
    job = workflow["jobs"]["pin"]
    shards = job["strategy"]["matrix"]["shard"]
    action_step = next(s for s in job["steps"] if "pinbot/deploy" in s.get("uses", ""))
    match = re.fullmatch(r"\$\{\{ matrix\.shard \}\}/(\d+)", action_step["with"]["shard"])
    assert match is not None
    assert sorted(shards) == list(range(int(match.group(1))))
    assert job["strategy"]["fail-fast"] is False
    cache_step = next(s for s in job["steps"] if s.get("uses", "").startswith("actions/cache@"))
    assert cache_step["with"]["path"] == action_step["with"]["cache-dir"]
    assert "${{ matrix.shard }}" in cache_step["with"]["key"]  # one cache per shard


def test_image_base_is_pinned_by_digest() -> None:
    data = (DEPLOY / "Dockerfile").read_bytes()
    occurrences = scan_bytes("Dockerfile", data).occurrences
    assert len(occurrences) == 2  # the build stage and the runtime stage; `--from=build` is a stage
    assert all(o.status is Status.PINNED for o in occurrences)
    assert all(o.reference is not None and o.reference.tag == "3.12-slim-bookworm" for o in occurrences)


def test_cronjob_is_an_indexed_job_whose_pods_take_their_shard(fake_pinbot: tuple[Path, Path]) -> None:
    cronjob = load(DEPLOY / "kubernetes" / "cronjob.yaml")
    job = cronjob["spec"]["jobTemplate"]["spec"]
    assert job["completionMode"] == "Indexed"
    container = job["template"]["spec"]["containers"][0]
    command = container["command"] + container["args"]
    assert command[:2] == ["/bin/sh", "-c"]
    shard_count = int(re.search(r"JOB_COMPLETION_INDEX/(\d+)", command[2]).group(1))  # type: ignore[union-attr]
    assert job["completions"] == job["parallelism"] == shard_count
    env = {e["name"]: e.get("value", "") for e in container["env"]}
    seen = []
    for index in range(shard_count):
        args = run_recorded(command, {**env, "JOB_COMPLETION_INDEX": str(index)}, fake_pinbot)
        parsed = build_parser().parse_args(args)
        assert parsed.command == "run"
        seen.append(args[args.index("--shard") + 1])
    assert seen == [f"{i}/{shard_count}" for i in range(shard_count)]
    occurrences = scan_bytes("deploy/kubernetes/cronjob.yaml", (DEPLOY / "kubernetes" / "cronjob.yaml").read_bytes()).occurrences
    assert [o.status for o in occurrences] == [Status.IGNORED]
