"""`pinbot pin` and platform-exact pins, against a real registry with skopeo as the oracle.

A pinned digest that is one platform's manifest of the index its tag points at is current;
when the tag moves it follows its own platform (from its config, `--platform`, or a Pod's
node selector) into the new index, never to the index and never to another platform.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.registry import Pushed, RunningRegistry

ARM64 = ("linux", "arm64", "v8")
AMD64 = ("linux", "amd64", None)


def pinbot(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pinbot", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=120,
    )


def children_by_platform(reg: RunningRegistry, ref: str) -> dict[str, str]:
    """The oracle: skopeo's raw index, platform -> child digest (attestations left out)."""
    index = json.loads(reg.skopeo_raw(ref))
    found = {}
    for entry in index["manifests"]:
        platform = entry.get("platform", {})
        if platform.get("os") == "unknown":
            continue
        found[f"{platform['os']}/{platform['architecture']}"] = entry["digest"]
    return found


def push(reg: RunningRegistry, repo: str, seed: str, platforms: list[tuple[str, str, str | None]] | None = None) -> Pushed:
    return reg.push_multiarch(repo, "1.0", platforms or [AMD64, ARM64], seed=seed)


def write_repository(root: Path, host: str, repo: str, arm: str, amd: str) -> None:
    (root / "deploy").mkdir(parents=True)
    (root / "Dockerfile").write_text(
        f"FROM --platform=linux/arm64 {host}/{repo}:1.0@{arm} AS arm\n"
        f"FROM {host}/{repo}:1.0@{amd}\n"
    )
    (root / "deploy" / "pod.yaml").write_text(
        "apiVersion: v1\nkind: Pod\nmetadata: {name: app}\nspec:\n"
        "  nodeSelector:\n    kubernetes.io/arch: arm64\n"
        f"  containers:\n    - name: app\n      image: {host}/{repo}:1.0@{arm}\n"
    )


@pytest.fixture
def config(tmp_path: Path, registry_http: RunningRegistry) -> Path:
    path = tmp_path / "pinbot.yaml"
    path.write_text(f'registries:\n  "{registry_http.host}":\n    insecure: true\n')
    return path


def test_platform_pins_are_current_then_follow_their_own_platform(
    tmp_path: Path, registry_http: RunningRegistry, config: Path
) -> None:
    reg, repo = registry_http, "platforms/app"
    first = push(reg, repo, "week-1")
    before = children_by_platform(reg, f"{repo}:1.0")
    assert before["linux/arm64"] != before["linux/amd64"] != first.digest
    root = tmp_path / "repo"
    write_repository(root, reg.host, repo, before["linux/arm64"], before["linux/amd64"])
    files = {p: p.read_bytes() for p in root.rglob("*") if p.is_file()}

    # The tag did not move: the platform manifests are current, nothing is written.
    result = pinbot("pin", root, "--config", config)
    assert result.returncode == 0, result.stderr
    assert "0 pinned, 0 bumped in 0 files; 3 already current" in result.stderr
    assert {p: p.read_bytes() for p in files} == files

    # The tag moves: each pin follows its own platform into the new index.
    second = push(reg, repo, "week-2")
    after = children_by_platform(reg, f"{repo}:1.0")
    assert second.digest != first.digest and set(after.values()).isdisjoint(before.values())
    result = pinbot("pin", root, "--config", config, "--format", "json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    written = {(e["file"], e["line"]): (e["new_digest"], e["notes"]) for e in report["edits"]}
    assert written == {
        ("Dockerfile", 1): (after["linux/arm64"], ["linux/arm64 manifest"]),
        ("Dockerfile", 2): (after["linux/amd64"], ["linux/amd64 manifest"]),
        ("deploy/pod.yaml", 9): (after["linux/arm64"], ["linux/arm64 manifest"]),
    }
    assert (root / "Dockerfile").read_text() == (
        f"FROM --platform=linux/arm64 {reg.host}/{repo}:1.0@{after['linux/arm64']} AS arm\n"
        f"FROM {reg.host}/{repo}:1.0@{after['linux/amd64']}\n"
    )
    assert f"image: {reg.host}/{repo}:1.0@{after['linux/arm64']}\n" in (
        root / "deploy" / "pod.yaml"
    ).read_text()
    # Every digest written names bytes skopeo serves under that digest, never the index.
    for digest in (after["linux/arm64"], after["linux/amd64"]):
        assert reg.skopeo_raw_digest(f"{repo}@{digest}") == digest
        assert json.loads(reg.skopeo_raw(f"{repo}@{digest}"))["mediaType"].endswith(
            "image.manifest.v1+json"
        )
    # And a second run changes nothing.
    again = pinbot("pin", root, "--config", config)
    assert again.returncode == 0 and "0 bumped in 0 files; 3 already current" in again.stderr


def test_a_platform_the_new_index_lacks_is_reported_and_left_alone(
    tmp_path: Path, registry_http: RunningRegistry, config: Path
) -> None:
    reg, repo = registry_http, "platforms/dropped"
    push(reg, repo, "one")
    before = children_by_platform(reg, f"{repo}:1.0")
    root = tmp_path / "repo"
    write_repository(root, reg.host, repo, before["linux/arm64"], before["linux/amd64"])
    push(reg, repo, "two", [AMD64])  # the arm64 build did not land
    after = children_by_platform(reg, f"{repo}:1.0")

    result = pinbot("pin", root, "--config", config)
    assert result.returncode == 0, result.stderr
    assert "1 bumped in 1 files" in result.stderr
    dockerfile = (root / "Dockerfile").read_text()
    assert f":1.0@{before['linux/arm64']} AS arm\n" in dockerfile  # left alone
    assert f":1.0@{after['linux/amd64']}\n" in dockerfile
    assert before["linux/arm64"] in (root / "deploy" / "pod.yaml").read_text()
    missing = [line for line in result.stderr.splitlines() if "has no linux/arm64 manifest" in line]
    assert len(missing) == 2 and "(it has: linux/amd64)" in missing[0]


def test_an_index_pin_still_takes_the_new_index(
    tmp_path: Path, registry_http: RunningRegistry, config: Path
) -> None:
    reg, repo = registry_http, "platforms/index"
    first = push(reg, repo, "a")
    root = tmp_path / "repo"
    root.mkdir()
    (root / "Dockerfile").write_text(f"FROM --platform=linux/arm64 {reg.host}/{repo}:1.0@{first.digest}\n")
    second = push(reg, repo, "b")
    result = pinbot("pin", root, "--config", config, "--format", "json")
    assert result.returncode == 0, result.stderr
    (edit,) = json.loads(result.stdout)["edits"]
    assert edit["new_digest"] == second.digest == reg.skopeo_raw_digest(f"{repo}:1.0")
    assert edit["notes"] == []


# --- check: a platform's manifest pinned with nothing saying which platform ---------------


def test_check_drift_names_a_platform_pin_that_says_no_platform(
    tmp_path: Path, registry_http: RunningRegistry, config: Path
) -> None:
    reg, repo = registry_http, "platforms/check"
    index = push(reg, repo, "c1")
    children = children_by_platform(reg, f"{repo}:1.0")
    root = tmp_path / "repo"
    write_repository(root, reg.host, repo, children["linux/arm64"], children["linux/amd64"])
    with (root / "Dockerfile").open("a") as dockerfile:
        dockerfile.write(f"FROM {reg.host}/{repo}:1.0@{index.digest}\n")

    result = pinbot("check", root, "--drift", "--config", config, "--format", "json")
    found = [(f["file"], f["line"], f["rule"]) for f in json.loads(result.stdout)]
    # Only line 2 is unsaid: line 1 has --platform, the Pod a node selector, line 3 the index.
    assert found == [("Dockerfile", 2, "platform-unspecified")], result.stdout
    assert result.returncode == 1
    without = pinbot("check", root, "--config", config, "--format", "json")
    assert json.loads(without.stdout) == []  # it needs a lookup: only with --drift

    push(reg, repo, "c2")  # moved: the old child is drift, and still says no platform
    moved = pinbot("check", root, "--drift", "--config", config, "--format", "json")
    rules = sorted((f["line"], f["rule"]) for f in json.loads(moved.stdout) if f["file"] == "Dockerfile")
    assert rules == [
        (1, "digest-drift"),
        (2, "digest-drift"),
        (2, "platform-unspecified"),
        (3, "digest-drift"),
    ]


def test_what_platform_pins_cost_in_registry_requests(
    tmp_path: Path, registry_http: RunningRegistry, config: Path
) -> None:
    reg, repo = registry_http, "platforms/cost"
    first = push(reg, repo, "k1")
    before = children_by_platform(reg, f"{repo}:1.0")
    root = tmp_path / "repo"
    write_repository(root, reg.host, repo, before["linux/arm64"], before["linux/amd64"])
    path = f"/v2/{repo}/manifests/"

    reg.reset_counts()
    assert pinbot("pin", root, "--config", config).returncode == 0
    # Unmoved: the tag's HEAD, and the index it names read once to see the pins in it.
    assert reg.manifest_requests() == [("HEAD", path + "1.0"), ("GET", path + first.digest)]

    second = push(reg, repo, "k2")
    after = children_by_platform(reg, f"{repo}:1.0")
    reg.reset_counts()
    assert pinbot("pin", root, "--config", config).returncode == 0
    seen = reg.requests_seen()
    manifests = sorted(r for r in seen if r[1].startswith(path))
    # Moved: each old pin is asked what it is (HEAD) and read with its config blob (its own
    # platform), and each new platform manifest is fetched and hashed before it is written.
    old, new = (before["linux/amd64"], before["linux/arm64"]), (after["linux/amd64"], after["linux/arm64"])
    assert manifests == sorted(
        [("HEAD", path + "1.0"), ("GET", path + second.digest)]
        + [("HEAD", path + d) for d in old]
        + [("GET", path + d) for d in (*old, *new)]
    )
    assert len([r for r in seen if r[1].startswith(f"/v2/{repo}/blobs/")]) == 2


# --- pin.platforms: an index whose platforms that matter did not change is not proposed ---

S390X = ("linux", "s390x", None)


def index_of(reg: RunningRegistry, repo: str, seeds: dict[tuple[str, str, str | None], str]) -> Pushed:
    """Push `repo:1.0` as an index whose child for each platform is built from its seed:
    keeping a platform's seed keeps its manifest, so one platform alone can be rebuilt."""
    children = [(reg.push_image(repo, None, platform=p, oci=True, seed=seed), p) for p, seed in seeds.items()]
    return reg.push_index(repo, "1.0", children)


def test_pin_platforms_skips_an_index_where_only_other_platforms_changed(
    tmp_path: Path, registry_http: RunningRegistry
) -> None:
    reg, repo = registry_http, "platforms/matter"
    config = tmp_path / "pinbot.yaml"
    config.write_text(
        f'registries:\n  "{reg.host}":\n    insecure: true\n'
        "pin:\n  platforms: [linux/amd64, linux/arm64]\n"
    )
    first = index_of(reg, repo, {AMD64: "a1", ARM64: "r1", S390X: "s1"})
    root = tmp_path / "repo"
    root.mkdir()
    (root / "Dockerfile").write_text(f"FROM {reg.host}/{repo}:1.0@{first.digest}\n")

    # Only s390x was rebuilt: the platforms that matter are the same manifests.
    second = index_of(reg, repo, {AMD64: "a1", ARM64: "r1", S390X: "s2"})
    assert second.digest == reg.skopeo_raw_digest(f"{repo}:1.0") != first.digest
    reg.reset_counts()
    result = pinbot("pin", root, "--config", config, "--format", "json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["edits"] == []
    assert [n["kind"] for n in report["notes"]] == ["platforms-unchanged"]
    assert "only platforms other than linux/amd64, linux/arm64 changed" in report["notes"][0]["message"]
    assert first.digest in (root / "Dockerfile").read_text()
    # Its cost: the tag's HEAD, the new index (hashed), and the old index (one GET).
    path = f"/v2/{repo}/manifests/"
    assert reg.manifest_requests() == [
        ("HEAD", path + "1.0"),
        ("GET", path + second.digest),
        ("GET", path + first.digest),
    ]

    # arm64 is rebuilt too: proposed, and the notes say which platform that matters changed.
    third = index_of(reg, repo, {AMD64: "a1", ARM64: "r2", S390X: "s2"})
    result = pinbot("pin", root, "--config", config, "--format", "json")
    (edit,) = json.loads(result.stdout)["edits"]
    assert (edit["new_digest"], edit["notes"]) == (third.digest, ["changed for linux/arm64"])
    assert (root / "Dockerfile").read_text() == f"FROM {reg.host}/{repo}:1.0@{third.digest}\n"
