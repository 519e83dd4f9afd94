"""The deployment files: the Action, the example workflows, the image, the CronJob and the lock.

Each is checked for structure; the command it would run is executed with a stand-in `pinbot`
on PATH and then parsed by pinbot's own command-line parser; the lock is checked against
`pyproject.toml` (the installs themselves need PyPI, which tests do not reach).
"""

from __future__ import annotations

import os
import re
import stat
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from ruamel.yaml import YAML

from pinbot.bot import SETTINGS_FILES
from pinbot.cli import build_parser
from pinbot.scanners import Status, scan_bytes

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
RUN_CONFIG = ".github/pinbot-run.yaml"
ACTION_FILES = [DEPLOY / "action.yml", *sorted((DEPLOY / "workflows").glob("*.yml"))]


def load(path: Path) -> Any:
    return YAML(typ="safe").load(path.read_text())


@pytest.fixture
def fake_pinbot(tmp_path: Path) -> tuple[Path, Path]:
    """A `pinbot` stand-in that records its arguments one per line, then which of the GitHub
    App variables it was given (never their values)."""
    record = tmp_path / "args"
    script = tmp_path / "bin" / "pinbot"
    script.parent.mkdir()
    script.write_text(
        "#!/bin/sh\n"
        f'for a in "$@"; do printf "%s\\n" "$a"; done > {record}\n'
        f"env | sed -n 's/^\\(PINBOT_APP_[A-Z_]*\\)=.*/env:\\1/p' | sort >> {record}\n"
    )
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return script.parent, record


def run_recorded(
    command: list[str],
    env: dict[str, str],
    fake: tuple[Path, Path],
    cwd: Path | None = None,
) -> subprocess.CompletedProcess[str]:
    bin_dir, _ = fake
    full_env = {**os.environ, **env, "PATH": f"{bin_dir}:{os.environ['PATH']}"}
    return subprocess.run(command, env=full_env, cwd=cwd, capture_output=True, text=True)


def recorded(fake: tuple[Path, Path]) -> list[str]:
    return fake[1].read_text().splitlines()


def action_step(name: str) -> dict[str, Any]:
    action = load(DEPLOY / "action.yml")
    step: dict[str, Any] = next(s for s in action["runs"]["steps"] if s.get("name") == name)
    return step


# The environment the Action's run step gets from its inputs, as the workflow in
# deploy/workflows/pinbot.yml gives them in a fresh repository (no app, no config file).
FRESH = {
    "GITHUB_TOKEN": "not-a-real-token",
    "PINBOT_APP_ID": "",
    "PINBOT_APP_PRIVATE_KEY": "",
    "PINBOT_APP_INSTALLATION_ID": "",
    "PINBOT_REPOS": "acme/web",
    "PINBOT_ORG": "",
    "PINBOT_INCLUDE": "",
    "PINBOT_EXCLUDE": "",
    "PINBOT_SHARD": "",
    "PINBOT_CONFIG": RUN_CONFIG,
    "PINBOT_DRY_RUN": "false",
    "PINBOT_CACHE_DIR": "",
}


@pytest.mark.slow
def test_action_inputs_are_documented_and_passed_to_pinbot(
    fake_pinbot: tuple[Path, Path], tmp_path: Path
) -> None:
    action = load(DEPLOY / "action.yml")
    assert action["runs"]["using"] == "composite"
    for name, spec in action["inputs"].items():
        assert spec.get("description"), f"input {name} has no description"
    run_step = action_step("Run pinbot")
    used = set(re.findall(r"inputs\.([\w-]+)", str(run_step["env"])))
    assert used == set(action["inputs"]) - {"python-version"}

    (tmp_path / ".github").mkdir()
    (tmp_path / RUN_CONFIG).write_text("pin:\n  style: digest\n")
    env = {
        **FRESH,
        "PINBOT_REPOS": "acme/web acme/api",
        "PINBOT_SHARD": "1/4",
        "PINBOT_DRY_RUN": "true",
        "PINBOT_CACHE_DIR": ".pinbot-cache",
    }
    done = run_recorded(["bash", "-c", run_step["run"]], env, fake_pinbot, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    args = recorded(fake_pinbot)
    assert args == [
        "run", "--repo", "acme/web", "--repo", "acme/api", "--shard", "1/4",
        "--config", RUN_CONFIG, "--cache-dir", ".pinbot-cache", "--dry-run",
    ]  # fmt: skip
    parsed = build_parser().parse_args(args)
    assert parsed.command == "run" and parsed.dry_run is True


@pytest.mark.slow
def test_action_works_in_a_fresh_repository_without_config_or_app(
    fake_pinbot: tuple[Path, Path], tmp_path: Path
) -> None:
    done = run_recorded(["bash", "-c", action_step("Run pinbot")["run"]], FRESH, fake_pinbot, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    args = recorded(fake_pinbot)
    assert args == ["run", "--repo", "acme/web"]  # no --config, no app variables at all
    assert build_parser().parse_args(args).command == "run"
    assert "::notice::no .github/pinbot-run.yaml" in done.stdout
    assert "do not trigger other workflows" in done.stdout


@pytest.mark.slow
def test_action_passes_the_github_app_and_refuses_half_of_it(
    fake_pinbot: tuple[Path, Path], tmp_path: Path
) -> None:
    script = action_step("Run pinbot")["run"]
    app = {**FRESH, "PINBOT_APP_ID": "1234", "PINBOT_APP_PRIVATE_KEY": "-----BEGIN..."}
    done = run_recorded(["bash", "-c", script], app, fake_pinbot, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert recorded(fake_pinbot)[-2:] == ["env:PINBOT_APP_ID", "env:PINBOT_APP_PRIVATE_KEY"]
    assert "do not trigger" not in done.stdout
    half = {**FRESH, "PINBOT_APP_ID": "1234"}
    done = run_recorded(["bash", "-c", script], half, fake_pinbot, cwd=tmp_path)
    assert done.returncode == 1
    assert "::error::app-id is set but private-key is empty" in done.stdout


@pytest.mark.slow
def test_action_refuses_a_named_config_that_is_missing(
    fake_pinbot: tuple[Path, Path], tmp_path: Path
) -> None:
    env = {**FRESH, "PINBOT_CONFIG": "ops/pinbot.yaml"}
    done = run_recorded(["bash", "-c", action_step("Run pinbot")["run"]], env, fake_pinbot, cwd=tmp_path)
    assert done.returncode == 1
    assert "::error::config file not found" in done.stdout
    assert not fake_pinbot[1].exists()


def test_action_token_defaults_to_the_workflow_token_and_the_app_is_an_input() -> None:
    inputs = load(DEPLOY / "action.yml")["inputs"]
    assert inputs["token"]["default"] == "${{ github.token }}"
    assert inputs["token"].get("required") is False
    assert {"app-id", "private-key", "installation-id"} <= set(inputs)
    assert inputs["config"]["default"] == RUN_CONFIG


def test_run_config_cannot_be_mistaken_for_a_repository_settings_file() -> None:
    assert RUN_CONFIG not in SETTINGS_FILES
    for path in ACTION_FILES:
        text = path.read_text()
        for settings in SETTINGS_FILES:
            # Named in comments as the repository's own file, never passed as the run's config.
            assert not re.search(rf"config: *{re.escape(settings)}", text), path


@pytest.mark.parametrize("name", ["pinbot.yml", "pinbot-org.yml"])
def test_example_workflows_take_the_app_from_settings_and_explain_the_token(name: str) -> None:
    path = DEPLOY / "workflows" / name
    workflow = load(path)
    steps = workflow["jobs"]["pin"]["steps"]
    step = next(s for s in steps if "pinbot/deploy" in s.get("uses", ""))
    assert step["with"]["app-id"] == "${{ vars.PINBOT_APP_ID }}"
    assert step["with"]["private-key"] == "${{ secrets.PINBOT_APP_PRIVATE_KEY }}"
    assert step["with"]["config"] == RUN_CONFIG
    assert "token" not in step["with"]  # the Action's default: the workflow's own token
    text = " ".join(re.sub(r"(?m)^\s*# ?", "", path.read_text()).split())
    assert "GitHub App" in text
    if name == "pinbot.yml":
        assert "do not trigger other workflows" in text
        assert '"Allow GitHub Actions to create and approve pull requests"' in text


def test_example_workflow_runs_on_schedule_and_by_hand() -> None:
    workflow = load(DEPLOY / "workflows" / "pinbot.yml")
    assert set(workflow["on"]) == {"schedule", "workflow_dispatch"}
    assert workflow["permissions"] == {
        "contents": "write",
        "pull-requests": "write",
        "checks": "read",
        "statuses": "read",
    }


def test_organisation_workflow_shards_cover_every_index_once() -> None:
    workflow = load(DEPLOY / "workflows" / "pinbot-org.yml")
    job = workflow["jobs"]["pin"]
    shards = job["strategy"]["matrix"]["shard"]
    action = next(s for s in job["steps"] if "pinbot/deploy" in s.get("uses", ""))
    match = re.fullmatch(r"\$\{\{ matrix\.shard \}\}/(\d+)", action["with"]["shard"])
    assert match is not None
    assert sorted(shards) == list(range(int(match.group(1))))
    assert job["strategy"]["fail-fast"] is False
    cache_step = next(s for s in job["steps"] if s.get("uses", "").startswith("actions/cache@"))
    assert cache_step["with"]["path"] == action["with"]["cache-dir"]
    assert "${{ matrix.shard }}" in cache_step["with"]["key"]  # one cache per shard
    # Without the app the job stops first, saying what to set.
    first = job["steps"][0]
    assert first["if"] == "vars.PINBOT_APP_ID == ''" and "exit 1" in first["run"]


_USES = re.compile(r"^\s*-?\s*uses:\s*(?P<action>[^@\s]+)@(?P<ref>\S+)(?P<comment>.*)$", re.MULTILINE)


def test_every_action_used_is_pinned_by_commit_with_its_version_beside_it() -> None:
    seen = set()
    for path in ACTION_FILES:
        for match in _USES.finditer(path.read_text()):
            action, ref, comment = match.group("action", "ref", "comment")
            if action == "OWNER/pinbot/deploy":
                continue  # pinbot itself: its release tag (see the next test)
            assert re.fullmatch(r"[0-9a-f]{40}", ref), f"{path.name}: {action}@{ref}"
            assert re.fullmatch(r"\s*# v\d+\.\d+\.\d+", comment), f"{path.name}: {action}"
            seen.add(action)
    assert seen == {"actions/checkout", "actions/setup-python", "actions/cache"}


def test_examples_reference_the_release_the_readme_says_to_tag() -> None:
    tag = f"v{PYPROJECT['project']['version']}"
    references = [
        match.group("ref")
        for path in ACTION_FILES
        for match in _USES.finditer(path.read_text())
        if match.group("action") == "OWNER/pinbot/deploy"
    ]
    assert references and set(references) == {tag}
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert f"git tag -a {tag}" in readme


# --- the lock ---------------------------------------------------------------------------

_ENTRY = re.compile(
    r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)==(?P<version>\S+)(?: ; (?P<marker>[^\\]+?))? \\\n"
    r"(?P<hashes>(?:    --hash=sha256:[0-9a-f]{64}(?: \\)?\n)+)"
    r"    # via (?P<via>.+)$",
    re.MULTILINE,
)


def lock_entries() -> dict[str, dict[str, str]]:
    text = (DEPLOY / "requirements.lock").read_text(encoding="utf-8")
    entries = {canonicalize_name(m["name"]): m.groupdict() for m in _ENTRY.finditer(text)}
    # Every requirement line is one entry: nothing unpinned or unhashed slipped in.
    requirement_lines = [
        line for line in text.splitlines() if line and not line.startswith((" ", "#"))
    ]
    assert len(requirement_lines) == len(entries), requirement_lines
    return entries


def test_lock_pins_every_package_exactly_with_hashes() -> None:
    entries = lock_entries()
    assert entries
    for name, entry in entries.items():
        assert re.fullmatch(r"\d+(\.\d+)*([a-z]+\d+)?(\.post\d+)?", entry["version"]), name
        assert entry["hashes"].count("--hash=sha256:") >= 1, name
        for origin in re.findall(r"[^,]+", entry["via"]):
            origin = origin.strip()
            assert origin.startswith("pinbot (pyproject.toml") or canonicalize_name(origin) in entries, (
                f"{name} is needed by {origin}, which the lock does not hold"
            )


def test_lock_satisfies_every_range_in_pyproject() -> None:
    entries = lock_entries()
    required = [
        *PYPROJECT["project"]["dependencies"],
        *PYPROJECT["build-system"]["requires"],
    ]
    for text in required:
        requirement = Requirement(text)
        entry = entries.get(canonicalize_name(requirement.name))
        assert entry is not None, f"{requirement.name} is in pyproject.toml, not in the lock"
        assert requirement.specifier.contains(entry["version"], prereleases=True), (
            f"lock has {requirement.name}=={entry['version']}, pyproject.toml wants {requirement.specifier}"
        )
        if requirement.marker is not None:
            assert entry["marker"] is not None
            assert str(requirement.marker) == entry["marker"].replace("'", '"')
    direct = {
        name for name, entry in entries.items() if "pinbot (pyproject.toml)" in entry["via"]
    }
    listed = {canonicalize_name(Requirement(text).name) for text in PYPROJECT["project"]["dependencies"]}
    assert direct == listed  # nothing dropped from pyproject.toml still held as a direct need


def test_lock_is_for_the_python_the_action_and_the_image_run() -> None:
    header = (DEPLOY / "requirements.lock").read_text(encoding="utf-8")
    match = re.search(r"autogenerated by pip-compile with Python (\d+\.\d+)", header)
    assert match is not None
    python = match.group(1)
    assert load(DEPLOY / "action.yml")["inputs"]["python-version"]["default"] == python
    assert f"FROM python:{python}-slim" in (DEPLOY / "Dockerfile").read_text()
    assert "bash deploy/update-lock.sh" in header


def test_action_and_image_install_only_from_the_lock() -> None:
    install = action_step("Install pinbot")["run"]
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    names = {canonicalize_name(name) for name in lock_entries()} | {"httpx", "pygithub", "ruamel.yaml"}
    for text in (install, dockerfile):
        flat = " ".join(text.replace("\\\n", " ").split())
        assert "--require-hashes --only-binary=:all: -r" in flat
        assert "deploy/requirements.lock" in flat
        assert "--no-deps --no-build-isolation --no-index" in flat
        words = {canonicalize_name(word) for word in re.findall(r"[A-Za-z][\w.-]*", flat)}
        assert not words & names, f"packages named outside the lock: {words & names}"


def test_image_base_is_pinned_by_digest() -> None:
    data = (DEPLOY / "Dockerfile").read_bytes()
    occurrences = scan_bytes("Dockerfile", data).occurrences
    assert len(occurrences) == 2  # the build stage and the runtime stage; `--from=build` is a stage
    assert all(o.status is Status.PINNED for o in occurrences)
    assert all(o.reference is not None and o.reference.tag == "3.12-slim-bookworm" for o in occurrences)


@pytest.mark.slow
def test_cronjob_is_an_indexed_job_whose_pods_take_their_shard(fake_pinbot: tuple[Path, Path]) -> None:
    cronjob = load(DEPLOY / "kubernetes" / "cronjob.yaml")
    job = cronjob["spec"]["jobTemplate"]["spec"]
    assert job["completionMode"] == "Indexed"
    pod = job["template"]["spec"]
    container = pod["containers"][0]
    command = container["command"] + container["args"]
    assert command[:2] == ["/bin/sh", "-c"]
    shard_count = int(re.search(r"JOB_COMPLETION_INDEX/(\d+)", command[2]).group(1))  # type: ignore[union-attr]
    assert job["completions"] == job["parallelism"] == shard_count
    env = {e["name"]: e.get("value", "") for e in container["env"]}
    seen = []
    for index in range(shard_count):
        done = run_recorded(command, {**env, "JOB_COMPLETION_INDEX": str(index)}, fake_pinbot)
        assert done.returncode == 0, done.stderr
        args = [line for line in recorded(fake_pinbot) if not line.startswith("env:")]
        parsed = build_parser().parse_args(args)
        assert parsed.command == "run"
        seen.append(args[args.index("--shard") + 1])
    assert seen == [f"{i}/{shard_count}" for i in range(shard_count)]
    occurrences = scan_bytes("deploy/kubernetes/cronjob.yaml", (DEPLOY / "kubernetes" / "cronjob.yaml").read_bytes()).occurrences
    assert [o.status for o in occurrences] == [Status.IGNORED]


def test_cronjob_authenticates_as_the_app_with_its_key_mounted_from_a_secret() -> None:
    pod = load(DEPLOY / "kubernetes" / "cronjob.yaml")["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    container = pod["containers"][0]
    env = {e["name"]: e for e in container["env"]}
    assert "GITHUB_TOKEN" not in env
    assert env["PINBOT_APP_ID"]["valueFrom"]["secretKeyRef"]["name"] == "pinbot-github-app"
    key_file = Path(env["PINBOT_APP_PRIVATE_KEY_FILE"]["value"])
    mounts = {m["name"]: m for m in container["volumeMounts"]}
    volumes = {v["name"]: v for v in pod["volumes"]}
    mount = next(m for m in mounts.values() if Path(m["mountPath"]) == key_file.parent)
    secret = volumes[mount["name"]]["secret"]
    assert secret["secretName"] == "pinbot-github-app"
    assert [item["path"] for item in secret["items"]] == [key_file.name]
