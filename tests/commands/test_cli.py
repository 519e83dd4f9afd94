"""The top-level command line: `-v`/`-vv` say what pinbot does, and never show a secret."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.commands.test_resolve import write_config
from tests.support.registry import RunningRegistry

ROOT = Path(__file__).resolve().parents[2]


def run(tmp_path: Path, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("DOCKER_", "PINBOT_"))}
    environ.update({"HOME": str(tmp_path), "PYTHONPATH": str(ROOT), **env})
    return subprocess.run(
        [sys.executable, "-m", "pinbot", *args],
        capture_output=True, text=True, env=environ, cwd=tmp_path, timeout=120, check=False,
    )


def test_very_verbose_shows_requests_and_no_secret(
    registry_basic: RunningRegistry, tmp_path: Path
) -> None:
    reg = registry_basic
    pushed = reg.push_image("cli/verbose", "1", seed="v")
    config = write_config(tmp_path / "pinbot.yaml", reg)
    assert reg.password is not None and reg.username is not None
    env = {"PINBOT_CLI_USER": reg.username, "PINBOT_CLI_PASS": reg.password}
    done = run(tmp_path, "-vv", "resolve", f"{reg.host}/cli/verbose:1", "--config", str(config), env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().endswith(pushed.digest)
    assert f"HEAD https://{reg.host}/v2/cli/verbose/manifests/1 -> 200" in done.stderr
    basic = base64.b64encode(f"{reg.username}:{reg.password}".encode()).decode()
    for secret in (reg.password, basic):
        assert secret not in done.stderr and secret not in done.stdout
    quiet = run(tmp_path, "resolve", f"{reg.host}/cli/verbose:1", "--config", str(config), env=env)
    assert quiet.stderr == ""


# Modules a command imports only when it talks to GitHub or a registry.
NETWORK_MODULES = ("github", "httpx", "jwt", "cryptography", "tenacity")


def modules_after(tmp_path: Path, *args: str) -> set[str]:
    """The top-level modules loaded after running `pinbot ARGS` in a fresh interpreter."""
    return {name.split(".", 1)[0] for name in modules_loaded_by(tmp_path, *args)}


def modules_loaded_by(tmp_path: Path, *args: str) -> set[str]:
    """Every module (dotted name) loaded after running `pinbot ARGS` in a fresh interpreter."""
    listing = tmp_path / "modules.json"
    program = (
        "import json, sys\n"
        "from pinbot.cli import main\n"
        "main(sys.argv[2:])\n"
        "open(sys.argv[1], 'w').write(json.dumps(sorted(sys.modules)))\n"
    )
    environ = {**os.environ, "PYTHONPATH": str(ROOT)}
    subprocess.run(
        [sys.executable, "-c", program, str(listing), *args],
        capture_output=True, text=True, env=environ, cwd=tmp_path, timeout=120, check=False,
    )
    return set(json.loads(listing.read_text()))


@pytest.mark.slow
def test_check_and_scan_import_nothing_for_the_network(tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / "Dockerfile").write_text("FROM nginx:1.27\n")
    (tree / "compose.yaml").write_text("services:\n  web:\n    image: redis:7\n")
    for command in (
        ["check", str(tree)],
        ["check", str(tree), "--format", "sarif"],
        ["scan", str(tree), "--format", "json"],
    ):
        loaded = modules_after(tmp_path, *command)
        assert "pinbot" in loaded and "ruamel" in loaded
        assert loaded.isdisjoint(NETWORK_MODULES), (command, loaded & set(NETWORK_MODULES))
    # The same probe sees them when a command does use the network.
    assert "httpx" in modules_after(tmp_path, "check", str(tree), "--drift")


@pytest.mark.slow
def test_resolve_loads_no_scanner_or_pinning_modules(tmp_path: Path) -> None:
    # A reference that does not parse: resolve exits before asking a registry.
    loaded = modules_loaded_by(tmp_path, "resolve", "Not/A:Reference!")
    assert "pinbot.commands.resolve" in loaded and "pinbot.registry" in loaded
    unused = {
        name
        for name in loaded
        if name.split(".")[:2] in (["pinbot", "scanners"], ["pinbot", "plan"], ["pinbot", "settle"])
        or name.split(".")[0] == "multiprocessing"
    }
    assert not unused


@pytest.mark.slow
def test_scan_loads_no_planner_policy_audit_or_other_formats(tmp_path: Path) -> None:
    # `scan` writes text or JSON from what the scanners found: the planner, the policy, the
    # audit and the other formats' renderers only cost it start-up time.
    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / "Dockerfile").write_text("FROM nginx:1.27\n")
    (tree / "compose.yaml").write_text("services:\n  web:\n    image: redis:7\n")
    unused_prefixes = (
        "pinbot.plan", "pinbot.policy", "pinbot.audit", "pinbot.settle", "pinbot.registry",
        "pinbot.supplychain", "pinbot.forge", "pinbot.bot", "pinbot.report.sarif",
        "pinbot.report.csv", "pinbot.report.markdown", "pinbot.report.github",
        "pinbot.report.interface", "pinbot.config",
    )
    for output in ("text", "json"):
        loaded = modules_loaded_by(tmp_path, "scan", str(tree), "--format", output)
        assert f"pinbot.report.{output}" in loaded and "pinbot.scanners.dockerfile" in loaded
        unused = {name for name in loaded if name.startswith(unused_prefixes)}
        assert not unused, (output, unused)
        assert loaded.isdisjoint(NETWORK_MODULES)
    # Without a configuration file, `scan` takes what `Config()` holds: no globs, no rules.
    from pinbot.config import Config

    defaults = Config()
    assert (defaults.scan.ignore_paths, defaults.scan.ignore_images, defaults.rules) == ((),) * 3
    # The planner is loaded when the config has rules to mark references with.
    (tmp_path / "pinbot.yaml").write_text("rules:\n  - images: [redis]\n    ignore: true\n")
    with_rules = modules_loaded_by(
        tmp_path, "scan", str(tree), "--config", str(tmp_path / "pinbot.yaml")
    )
    assert "pinbot.plan" in with_rules
    marked = run(tmp_path, "scan", str(tree), "--config", str(tmp_path / "pinbot.yaml"), env={})
    assert "\tignored\tredis:7  (ignored by rules[0])" in marked.stdout, marked.stderr
    assert "\tunpinned\tnginx:1.27" in marked.stdout


def test_a_stage_that_cannot_go_on_ends_the_command_with_one_line_and_status_1(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import pinbot.commands.scan
    from pinbot import cli
    from pinbot.scanners._forked import WorkerFailed

    def failing(args: object) -> int:
        raise WorkerFailed("the worker processes ended\n::error ::before every task was done")

    monkeypatch.setattr(pinbot.commands.scan, "run", failing)
    assert cli.main(["scan", "."]) == 1
    assert capsys.readouterr().err == (
        "pinbot scan: the worker processes ended\\n::error ::before every task was done\n"
    )
