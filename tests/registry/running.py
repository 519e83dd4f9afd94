"""Run `python -m pinbot` as a subprocess and measure it: exit status, output, wall time, peak RSS.

The peak resident set size comes from `os.wait4`, which reports the resources of that one
child, so other processes the tests started (registries, skopeo) never count.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Finished:
    returncode: int
    stdout: str
    stderr: str
    seconds: float
    #: Peak resident set size of the pinbot process, in MiB.
    peak_rss_mib: float


def clean_environment(home: Path, **extra: str) -> dict[str, str]:
    """The test's environment without registry credentials or config, pinbot from this tree."""
    environ = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DOCKER_", "PINBOT_", "SSL_CERT")) and key != "GITHUB_TOKEN"
    }
    environ.update({"HOME": str(home), "DOCKER_CONFIG": str(home / "docker"), "PYTHONPATH": str(ROOT)})
    environ.update(extra)
    return environ


def run_pinbot(*args: str, cwd: Path, timeout: float = 180.0, **env: str) -> Finished:
    """`python -m pinbot ARGS` in `cwd`; killed (and the test failed) after `timeout` s."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.monotonic()
        process = subprocess.Popen(
            [sys.executable, "-m", "pinbot", *args],
            stdout=out,
            stderr=err,
            env=clean_environment(cwd, **env),
            cwd=cwd,
        )
        deadline = started + timeout
        while True:
            pid, status, usage = os.wait4(process.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() > deadline:
                process.kill()
                os.wait4(process.pid, 0)
                raise AssertionError(f"pinbot {' '.join(args)} still running after {timeout} s")
            time.sleep(0.02)
        seconds = time.monotonic() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return Finished(
            returncode=process.returncode,
            stdout=out.read().decode("utf-8", "replace"),
            stderr=err.read().decode("utf-8", "replace"),
            seconds=seconds,
            peak_rss_mib=usage.ru_maxrss / 1024,  # KiB on Linux
        )


def registry_config(path: Path, *insecure_hosts: str, tls: dict[str, Path] | None = None) -> Path:
    """A pinbot config naming plain-HTTP hosts (insecure) and TLS hosts with their CA file."""
    lines = ["registries:"]
    for host in insecure_hosts:
        lines += [f'  "{host}":', "    insecure: true"]
    for host, ca_file in (tls or {}).items():
        lines += [f'  "{host}":', f'    ca-file: "{ca_file}"']
    path.write_text("\n".join(lines) + "\n")
    return path
