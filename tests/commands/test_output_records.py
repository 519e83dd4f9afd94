"""Output that survives pipes and parsers: one record per line, no workflow command from data.

Real files whose names hold a line break and a GitHub Actions workflow command, run through
every command that prints text; and a reader that closes the pipe after one line.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from pinbot.audit import AuditedRepository, AuditReport, audit_repository
from pinbot.config import PolicyConfig
from pinbot.report import text
from pinbot.scanners import scan_text
from tests.support.registry import RunningRegistry

ROOT = Path(__file__).resolve().parents[2]

#: Folder names a repository can hold: each would be a workflow command if printed raw.
HOSTILE_FOLDERS = (
    "x\n::error title=forged::pinbot found nothing wrong",
    "y\n::stop-commands::resume-token",
    "z\r::warning ::carriage return",
)


def pinbot(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pinbot", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )


def python_c(script: str) -> subprocess.CompletedProcess[str]:
    """`python -c SCRIPT` in a fresh interpreter that imports this checkout's pinbot."""
    return subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )


def commands_in(output: str) -> list[str]:
    """Every line the Actions runner would read as a workflow command."""
    return [line for line in output.splitlines() if line.lstrip().startswith("::")]


@pytest.fixture
def hostile_tree(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    for folder in HOSTILE_FOLDERS:
        (root / folder).mkdir(parents=True)
        (root / folder / "Dockerfile").write_text("FROM nginx:1.27\n")
    return root


@pytest.mark.slow
def test_scan_prints_one_line_per_reference_and_no_workflow_command(hostile_tree: Path) -> None:
    result = pinbot("scan", hostile_tree)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == len(HOSTILE_FOLDERS)
    assert all(line.count("\t") == 3 for line in lines)
    assert "x\\n::error title=forged::pinbot found nothing wrong/Dockerfile:1:6\t" in result.stdout
    assert commands_in(result.stdout + result.stderr) == []


@pytest.mark.slow
def test_check_text_has_no_workflow_command_and_github_output_escapes_properties(
    hostile_tree: Path,
) -> None:
    plain = pinbot("check", hostile_tree)
    assert plain.returncode == 1
    assert len(plain.stdout.splitlines()) == len(HOSTILE_FOLDERS)  # one unpinned each
    assert commands_in(plain.stdout + plain.stderr) == []

    github = pinbot("check", hostile_tree, "--format", "github")
    lines = github.stdout.splitlines()
    assert len(lines) == len(HOSTILE_FOLDERS)
    for line in lines:
        assert line.startswith("::error file=")  # pinbot's own annotation, and only that
        properties, _, message = line[len("::error ") :].partition("::")
        assert message == "nginx:1.27 is not pinned by digest"
        file = dict(p.split("=", 1) for p in properties.split(","))["file"]
        assert "\n" not in file and ":" not in file and "," not in file
    assert "file=x%0A%3A%3Aerror title=forged%3A%3Apinbot found nothing wrong/Dockerfile" in (
        github.stdout
    )


def test_pin_escapes_file_names_in_its_diff_and_its_messages(
    hostile_tree: Path, tmp_path: Path, registry_http: RunningRegistry
) -> None:
    registry_http.push_image("records/app", "1.0", seed="records")
    for folder in HOSTILE_FOLDERS:
        (hostile_tree / folder / "Dockerfile").write_text(
            f"FROM {registry_http.host}/records/app:1.0\nFROM {registry_http.host}/records/gone:1\n"
        )
    config = tmp_path / "pinbot.yaml"
    config.write_text(f'registries:\n  "{registry_http.host}":\n    insecure: true\n')

    result = pinbot("pin", hostile_tree, "--dry-run", "--config", config)

    assert result.stdout.count("\n+++ b/") == len(HOSTILE_FOLDERS)  # one diff per file
    assert "+++ b/y\\n::stop-commands::resume-token/Dockerfile\n" in result.stdout
    assert "records/gone" in result.stderr  # the failed lookup is said, on its own line
    assert commands_in(result.stdout + result.stderr) == []


@pytest.mark.slow
def test_resolve_escapes_what_it_was_given() -> None:
    result = pinbot("resolve", "nginx\n::error ::forged")
    assert result.returncode == 1
    assert commands_in(result.stdout + result.stderr) == []
    assert "nginx\\n::error ::forged\terror: " in result.stderr


def test_audit_text_keeps_outside_data_on_its_line() -> None:
    hostile = "\n::error ::forged"
    occurrences = [
        replace(o, file=f"app{hostile}/Dockerfile")
        for o in scan_text("Dockerfile", "FROM nginx:1.27\n").occurrences
    ]
    report = AuditReport(
        repositories=[
            audit_repository("acme/web", occurrences, PolicyConfig(), warnings=[hostile]),
            AuditedRepository(f"acme/gone{hostile}", failure=f"HTTP 404{hostile}"),
        ],
        lookup_errors=[f"nginx:1.27: refused{hostile}"],
    )
    shown = text.audit(report)
    assert commands_in(shown) == []
    assert "acme/web/app\\n::error ::forged/Dockerfile:1:6: unpinned: " in shown


@pytest.mark.slow
@pytest.mark.parametrize("command", ["scan", "check"])
def test_a_reader_that_closed_the_pipe_ends_the_command_quietly(
    hostile_tree: Path, command: str
) -> None:
    # The reader is gone before pinbot writes (as after `| head -1` read its line): every
    # write to the pipe fails, whatever the kernel buffers.
    reader, writer = os.pipe()
    os.close(reader)
    try:
        result = subprocess.run(
            [sys.executable, "-m", "pinbot", command, str(hostile_tree)],
            stdout=writer,
            stderr=subprocess.PIPE,
            timeout=120,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
    finally:
        os.close(writer)
    assert result.returncode == 141  # 128 + SIGPIPE, as a shell reports it
    assert b"Traceback" not in result.stderr and b"BrokenPipeError" not in result.stderr


@pytest.mark.slow
def test_a_library_warning_quoting_a_file_forges_no_workflow_command(tmp_path: Path) -> None:
    # YAML allows an anchor to be defined again; ruamel.yaml warns about it and its warning
    # quotes the lines of the file, so a repository could write a workflow command there.
    (tmp_path / "values.yaml").write_text(
        "::error title=forged::all clean: &base\n  image: nginx:1.27\nb: &base\n  image: redis:7\n"
    )
    for command in ("scan", "check"):
        result = pinbot(command, tmp_path)
        assert commands_in(result.stdout + result.stderr) == [], result.stderr
        assert "Warning" not in result.stderr, result.stderr
    assert "values.yaml:2:10" in pinbot("scan", tmp_path).stdout


@pytest.mark.slow
def test_any_other_warning_is_shown_on_one_escaped_line(tmp_path: Path) -> None:
    script = (
        "import warnings, pinbot.cli\n"
        "pinbot.cli.guard_stderr()\n"
        "warnings.warn('quoted\\n::error title=forged::from a file\\x1b[31m')\n"
    )
    result = python_c(script)
    assert result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith("pinbot: warning: UserWarning: quoted"), result.stderr
    assert commands_in(result.stderr) == [] and "\x1b" not in result.stderr


@pytest.mark.slow
@pytest.mark.parametrize("verbose", [False, True], ids=["last resort", "-v"])
def test_a_logged_failure_quoting_a_registry_stays_on_one_escaped_line(verbose: bool) -> None:
    # What the supply-chain reader logs when a registry's answer breaks it: the exception's
    # text, traceback and all, is the registry's.
    script = (
        "import logging, sys\n"
        "from pinbot.supplychain import reader\n"
        + ("logging.basicConfig(level=logging.INFO, handlers=[__import__('pinbot.logs').logs"
           ".stderr_handler(logging.INFO)])\n" if verbose else "")
        + "try:\n"
        "    raise ValueError('bad\\n::error title=forged::registry clean\\x1b[2J')\n"
        "except ValueError:\n"
        "    reader.log.warning('reading %s failed', 'sha256:0', exc_info=True)\n"
    )
    result = python_c(script)
    assert result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith("pinbot: pinbot.supplychain.reader: reading sha256:0 failed")
    assert "ValueError: bad\\n::error" in result.stderr
    assert commands_in(result.stderr) == [] and "\x1b" not in result.stderr


@pytest.mark.slow
def test_a_crash_quoting_outside_text_keeps_its_message_on_one_escaped_line() -> None:
    script = (
        "import pinbot.cli\n"
        "pinbot.cli.guard_stderr()\n"
        "raise RuntimeError('bug\\n::error title=forged::clean\\x1b[2J')\n"
    )
    result = python_c(script)
    assert result.returncode == 1
    assert result.stderr.startswith("Traceback (most recent call last):\n"), result.stderr
    assert result.stderr.endswith("RuntimeError: bug\\n::error title=forged::clean\\x1b[2J\n")
    assert commands_in(result.stderr) == [] and "\x1b" not in result.stderr


@pytest.mark.slow
def test_a_config_error_quoting_a_key_stays_on_its_line(tmp_path: Path) -> None:
    # A repository's own settings file is outside data in a run; the same reader says what is
    # wrong with any config file, quoting the key.
    config = tmp_path / "pinbot.yaml"
    config.write_text('"x\\n::error title=forged::config clean": 1\n')
    (tmp_path / "Dockerfile").write_text("FROM nginx:1.27\n")
    for command in ("scan", "check", "pin"):
        result = pinbot(command, tmp_path, "--config", config)
        assert result.returncode == 2, result.stderr
        assert commands_in(result.stdout + result.stderr) == [], result.stderr
        assert "x\\n::error title=forged::config clean: unknown key" in result.stderr


def test_pin_dry_run_in_a_workflow_shows_the_diff_as_is_with_workflow_commands_stopped(
    tmp_path: Path, registry_http: RunningRegistry
) -> None:
    # The diff shows a file's own lines, byte for byte; a folded scalar's line can start with
    # `::` once its indentation is trimmed, as the Actions runner trims it.
    registry_http.push_image("records/web", "1.0", seed="records-web")
    tree = tmp_path / "repo"
    tree.mkdir()
    (tree / "compose.yaml").write_text(
        "services:\n  web:\n"
        f"    image: {registry_http.host}/records/web:1.0\n"
        "    command: >\n      ::error title=forged::all clean\n"
    )
    config = tmp_path / "pinbot.yaml"
    config.write_text(f'registries:\n  "{registry_http.host}":\n    insecure: true\n')
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("GITHUB_ACTIONS", None)
    args = [sys.executable, "-m", "pinbot", "pin", str(tree), "--dry-run", "--config", str(config)]

    plain = subprocess.run(args, capture_output=True, text=True, timeout=120, env=env)
    in_workflow = subprocess.run(
        args, capture_output=True, text=True, timeout=120, env={**env, "GITHUB_ACTIONS": "true"}
    )

    assert plain.returncode == in_workflow.returncode == 0, in_workflow.stderr
    assert "      ::error title=forged::all clean\n" in plain.stdout  # the file's line, as is
    first, *diff, last = in_workflow.stdout.splitlines(keepends=True)
    assert "".join(diff) == plain.stdout
    token = first.removeprefix("::stop-commands::").strip()
    assert len(token) >= 32 and token not in plain.stdout
    assert last == f"::{token}::\n"
    assert commands_in(in_workflow.stderr) == []
