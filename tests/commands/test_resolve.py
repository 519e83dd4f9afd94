"""`pinbot resolve` run as a subprocess against real registries."""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.registry import RunningRegistry

ROOT = Path(__file__).resolve().parents[2]
_names = itertools.count()


def unique(prefix: str) -> str:
    return f"{prefix}-{next(_names)}"


def write_config(path: Path, *registries: RunningRegistry) -> Path:
    lines = ["registries:"]
    for reg in registries:
        lines.append(f'  "{reg.host}":')
        if reg.tls:
            lines.append(f'    ca-file: "{reg.ca_file}"')
        else:
            lines.append("    insecure: true")
        if reg.username:
            lines.append("    username-env: PINBOT_CLI_USER")
            lines.append("    password-env: PINBOT_CLI_PASS")
    path.write_text("\n".join(lines) + "\n")
    return path


def pinbot(
    tmp_path: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    environ = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DOCKER_", "PINBOT_", "SSL_CERT")) and key != "GITHUB_TOKEN"
    }
    environ.update(
        {"HOME": str(tmp_path), "DOCKER_CONFIG": str(tmp_path / "docker"), "PYTHONPATH": str(ROOT)}
    )
    environ.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "pinbot", "resolve", *args],
        capture_output=True,
        text=True,
        env=environ,
        cwd=tmp_path,
        timeout=120,
        check=False,
    )


def test_text_prints_each_reference_with_the_digest_skopeo_sees(
    registry_http: RunningRegistry, tmp_path: Path
) -> None:
    repo = unique("cli/text")
    one = registry_http.push_image(repo, "1", seed="1")
    two = registry_http.push_multiarch(repo, "2")
    config = write_config(tmp_path / "pinbot.yml", registry_http)
    refs = [f"{registry_http.host}/{repo}:1", f"{registry_http.host}/{repo}:2"]
    done = pinbot(tmp_path, *refs, "--config", str(config))
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [f"{refs[0]}\t{one.digest}", f"{refs[1]}\t{two.digest}"]
    assert done.stderr == ""
    for ref, line in zip(refs, done.stdout.splitlines(), strict=True):
        assert line.split("\t")[1] == registry_http.skopeo_raw_digest(ref.split("/", 1)[1])


def test_failures_go_to_stderr_and_others_still_print(
    registry_http: RunningRegistry, tmp_path: Path
) -> None:
    repo = unique("cli/partial")
    one = registry_http.push_image(repo, "1")
    config = write_config(tmp_path / "pinbot.yml", registry_http)
    good = f"{registry_http.host}/{repo}:1"
    missing = f"{registry_http.host}/{repo}:nope"
    invalid = "Not A Reference!"
    done = pinbot(tmp_path, missing, good, invalid, "--config", str(config))
    assert done.returncode == 1
    assert done.stdout.splitlines() == [f"{good}\t{one.digest}"]
    errors = done.stderr.splitlines()
    assert (
        errors[0] == f'{missing}\terror: registry {registry_http.host}: tag "{repo}:nope" not found'
    )
    assert errors[1].startswith(f"{invalid}\terror: ")
    assert len(errors) == 2


def test_json_keeps_the_order_given_and_a_missing_tag_gets_its_error(
    registry_tls: RunningRegistry, tmp_path: Path
) -> None:
    repo = unique("cli/json")
    pushed = registry_tls.push_image(repo, "1", oci=True)
    config = write_config(tmp_path / "pinbot.yml", registry_tls)
    good = f"{registry_tls.host}/{repo}:1"
    missing = f"{registry_tls.host}/{repo}:2"
    done = pinbot(tmp_path, good, missing, good, "--format", "json", "--config", str(config))
    assert done.returncode == 1
    rows = json.loads(done.stdout)
    assert rows[0] == {"reference": good, "digest": pushed.digest, "error": None}
    assert rows[1]["reference"] == missing and rows[1]["digest"] is None
    assert "not found" in rows[1]["error"]
    assert rows[2] == rows[0]
    assert pushed.digest == registry_tls.skopeo_raw_digest(f"{repo}:1")


def test_platform_with_verify_gives_that_platforms_manifest_behind_token_auth(
    registry_token: RunningRegistry, tmp_path: Path
) -> None:
    assert registry_token.username and registry_token.password
    repo = unique("cli/platform")
    index = registry_token.push_multiarch(repo, "1")
    arm64 = next(
        e["digest"] for e in index.manifest["manifests"] if e["platform"]["architecture"] == "arm64"
    )
    config = write_config(tmp_path / "pinbot.yml", registry_token)
    env = {"PINBOT_CLI_USER": registry_token.username, "PINBOT_CLI_PASS": registry_token.password}
    ref = f"{registry_token.host}/{repo}:1"
    done = pinbot(
        tmp_path,
        ref,
        "--platform",
        "linux/arm64/v8",
        "--verify",
        "--format",
        "json",
        "--config",
        str(config),
        env=env,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == [{"reference": ref, "digest": arm64, "error": None}]
    assert arm64 == registry_token.skopeo_raw_digest(f"{repo}@{arm64}")


def test_wrong_password_is_not_printed(registry_basic: RunningRegistry, tmp_path: Path) -> None:
    assert registry_basic.username
    repo = unique("cli/secret")
    registry_basic.push_image(repo, "1")
    config = write_config(tmp_path / "pinbot.yml", registry_basic)
    env = {"PINBOT_CLI_USER": registry_basic.username, "PINBOT_CLI_PASS": "hunter2-wrong"}
    done = pinbot(tmp_path, f"{registry_basic.host}/{repo}:1", "--config", str(config), env=env)
    assert done.returncode == 1
    assert "credentials were refused" in done.stderr
    assert "$PINBOT_CLI_USER/$PINBOT_CLI_PASS" in done.stderr
    assert "hunter2-wrong" not in done.stdout + done.stderr


@pytest.mark.slow
@pytest.mark.parametrize("platform", ["linux", "a/b/c/d"])
def test_bad_platform_is_a_usage_error(tmp_path: Path, platform: str) -> None:
    done = pinbot(tmp_path, "nginx:1.27", "--platform", platform)
    assert done.returncode == 2
    assert "OS/ARCH" in done.stderr
