"""One bad reference costs that reference, never the run: refused at parse time when the text
says enough, and any failure while looking it up becomes its own error.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from pathlib import Path
from typing import Any

from pinbot.config import Config, RegistryConfig
from pinbot.pipeline import look_up
from pinbot.reference import parse_normalized
from pinbot.registry import RegistryClient, RegistryError, Resolution
from pinbot.scanners import scan_files
from tests.registry.running import registry_config, run_pinbot
from tests.support.hostile_registry import HostileRegistry, sha256_digest
from tests.support.registry import RunningRegistry

_names = itertools.count()

HOSTILE_TEXTS = [
    "127.0.0.1:99999/x:1",
    "[:::::]:5000/x:1",
    "name@invaliddigest:" + "a" * 64,
]


def unique(prefix: str) -> str:
    return f"{prefix}-{next(_names)}"


def error_lines(stderr: str) -> dict[str, str]:
    """`resolve`'s error lines by the reference they are about."""
    found = {}
    for line in stderr.splitlines():
        reference, _, error = line.partition("\terror: ")
        if error:
            found[reference] = error
    return found


def test_resolve_refuses_hostile_references_and_still_resolves_the_rest(
    registry_http: RunningRegistry, tmp_path: Path
) -> None:
    repo = unique("contain/good")
    pushed = registry_http.push_image(repo, "1")
    good = f"{registry_http.host}/{repo}:1"
    config = registry_config(tmp_path / "pinbot.yaml", registry_http.host)
    done = run_pinbot("resolve", *HOSTILE_TEXTS, good, "--config", str(config), cwd=tmp_path)
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert done.stdout.splitlines() == [f"{good}\t{pushed.digest}"]
    errors = error_lines(done.stderr)
    assert set(errors) == set(HOSTILE_TEXTS)
    for text in HOSTILE_TEXTS:
        assert errors[text].startswith(f'invalid reference "{text}": ')
    assert "port must be between 1 and 65535, not 99999" in errors[HOSTILE_TEXTS[0]]
    assert "not a valid IPv6 address" in errors[HOSTILE_TEXTS[1]]
    assert "'invaliddigest' is not one registries know" in errors[HOSTILE_TEXTS[2]]
    # Refused before any connection: no request left the process for them.
    assert done.seconds < 30


def test_a_host_the_http_library_refuses_costs_only_its_reference(
    registry_http: RunningRegistry, tmp_path: Path
) -> None:
    # Valid by the reference grammar, but not a host name IDNA allows: the HTTP library
    # raises its own error when the first request is made.
    repo = unique("contain/idna")
    pushed = registry_http.push_image(repo, "1")
    good = f"{registry_http.host}/{repo}:1"
    bad = "xn--zz.example/x:1"
    config = registry_config(tmp_path / "pinbot.yaml", registry_http.host)
    done = run_pinbot("resolve", bad, good, "--config", str(config), cwd=tmp_path)
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert done.stdout.splitlines() == [f"{good}\t{pushed.digest}"]
    assert error_lines(done.stderr)[bad].startswith("registry xn--zz.example: ")


def deeply_nested_manifest(hostile: HostileRegistry, repository: str) -> bytes:
    # Past the JSON parser's recursion limit, far under any size cap.
    body = b"[" * 200_000
    headers = {
        "Content-Type": "application/vnd.oci.image.manifest.v1+json",
        "Docker-Content-Digest": sha256_digest(body),
    }
    hostile.answer(f"/v2/{repository}/manifests/1", headers=headers, body=body)
    return body


def test_pin_with_one_hostile_manifest_still_pins_the_rest(
    registry_http: RunningRegistry, hostile_registry: HostileRegistry, tmp_path: Path
) -> None:
    repo = unique("contain/pin")
    pushed = registry_http.push_image(repo, "1")
    deeply_nested_manifest(hostile_registry, "deep")
    root = tmp_path / "repo"
    root.mkdir()
    good = f"{registry_http.host}/{repo}:1"
    bad = f"{hostile_registry.host}/deep:1"
    (root / "Dockerfile").write_text(f"FROM {bad} AS one\nFROM {good}\n")
    config = registry_config(tmp_path / "pinbot.yaml", registry_http.host, hostile_registry.host)
    done = run_pinbot("pin", str(root), "--config", str(config), "--format", "json", cwd=tmp_path)
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    assert (root / "Dockerfile").read_text() == f"FROM {bad} AS one\nFROM {good}@{pushed.digest}\n"
    report = json.loads(done.stdout)
    failed = [note for note in report["notes"] if note["text"] == bad]
    assert len(failed) == 1 and hostile_registry.host in failed[0]["message"]


class _BrokenForOneName(RegistryClient):
    """Stands in for a lookup bug no test foresaw: one image's lookups raise a plain error."""

    def __init__(self, broken: str, **options: Any) -> None:
        super().__init__(**options)
        self.broken = broken

    async def fetch(self, ref: Any) -> Resolution:
        if ref.name.endswith(self.broken):
            raise KeyError("a lookup bug")
        return await super().fetch(ref)


def test_look_up_turns_any_exception_into_that_references_error(
    registry_http: RunningRegistry, tmp_path: Path
) -> None:
    repo = unique("contain/bug")
    pushed = registry_http.push_image(repo, "1")
    good = f"{registry_http.host}/{repo}:1"
    bad = f"{registry_http.host}/{repo}-broken:1"
    files = {"Dockerfile": f"FROM {bad} AS one\nFROM {good}\n".encode()}
    occurrences = scan_files(files)["Dockerfile"].occurrences
    config = Config(
        registries={registry_http.host: RegistryConfig(host=registry_http.host, insecure=True)}
    )

    async def main() -> dict[str, Any]:
        async with _BrokenForOneName(
            "-broken", config=config, docker_config_dir=tmp_path, environ={}
        ) as client:
            return dict(await look_up(client, occurrences))

    lookups = asyncio.run(main())
    assert lookups[str(parse_normalized(good))].digest == pushed.digest
    failed = lookups[str(parse_normalized(bad))]
    assert failed.digest is None
    assert failed.error is not None and "KeyError" in failed.error


def test_a_manifest_nested_past_the_json_parser_is_a_registry_error(
    hostile_registry: HostileRegistry, tmp_path: Path
) -> None:
    deeply_nested_manifest(hostile_registry, "deep")
    host = hostile_registry.host
    config = Config(registries={host: RegistryConfig(host=host, insecure=True)})

    async def main() -> BaseException | Resolution:
        async with RegistryClient(config, docker_config_dir=tmp_path, environ={}) as client:
            try:
                return await client.fetch(parse_normalized(f"{host}/deep:1"))
            except Exception as exc:
                return exc

    outcome = asyncio.run(main())
    assert isinstance(outcome, RegistryError)
    assert outcome.registry == host
