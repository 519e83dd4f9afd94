"""`pinbot audit` end to end: PyGithub over real HTTP to the GitHub fake, drift from a real registry."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from pinbot.audit import AuditReport, percent
from pinbot.cli import build_parser, main
from pinbot.commands.audit import execute, exit_status
from pinbot.config import Config, load_config
from pinbot.forge.github import Credentials, shard_of
from pinbot.report import markdown
from pinbot.report.csv import COLUMNS as CSV_COLUMNS
from pinbot.report.csv import inert
from pinbot.report.formats import AUDIT as RENDERERS
from tests.support.github_fake import GitHubFake
from tests.support.registry import RunningRegistry

A = "sha256:" + "a" * 64
C = "sha256:" + "c" * 64

#: The organisation every test but the drift ones audits: five repositories read, two left out.
ORG_FILES: dict[str, dict[str, bytes]] = {
    "web": {
        "Dockerfile": (
            "# syntax=docker/dockerfile:1\n"
            f"FROM golang:1.22@{A} AS build\n"
            "RUN go build ./...\n"
            "FROM nginx:1.27\n"
            "COPY --from=build /out /usr/share/nginx/html\n"
        ).encode(),
        "README.md": b"# web\n",
    },
    "api": {
        "deploy/app.yaml": (
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: api\nspec:\n"
            "  template:\n    spec:\n      containers:\n"
            f"        - name: api\n          image: ghcr.io/acme/api:2.3@{A}\n"
            "        - name: cache\n          image: redis\n"
        ).encode(),
    },
    "worker": {
        "compose.yaml": (
            f"services:\n  app:\n    image: nginx:1.27@{C}\n"
            "  db:\n    image: postgres:${PG_VERSION:-16}\n"
        ).encode(),
    },
    "ci": {
        ".github/workflows/ci.yml": (
            b"on: push\njobs:\n  test:\n    runs-on: ubuntu-latest\n    container: node:20\n"
            b"    services:\n      db:\n        image: quay.io/acme/db:latest\n"
            b"    steps:\n      - run: npm test\n"
        ),
        "src/index.js": b"console.log(1)\n",
    },
    "docs": {"README.md": b"# docs\n"},
}

#: Candidate files each repository has (one blob read each).
CANDIDATES = {"web": 1, "api": 1, "worker": 1, "ci": 1, "docs": 0}


@pytest.fixture
def org(fake: GitHubFake) -> GitHubFake:
    for name, files in ORG_FILES.items():
        fake.create_repo("acme", name, files)
    fake.create_repo("acme", "old", {"Dockerfile": b"FROM alpine\n"}, archived=True)
    fake.create_repo("acme", "fork", {"Dockerfile": b"FROM alpine\n"}, fork=True)
    fake.reset_calls()
    return fake


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    path = tmp_path / "pinbot.yaml"
    path.write_text('policy:\n  allowed-registries: ["docker.io", "ghcr.io"]\n', encoding="utf-8")
    return path


@pytest.fixture
def config(config_file: Path) -> Config:
    return load_config(config_file)


def audit(fake: GitHubFake, config: Config, *argv: str) -> AuditReport:
    args = build_parser().parse_args(["audit", *argv])
    return execute(args, config, Credentials(token=fake.token, api_url=fake.url))


def test_an_organisation_gives_the_exact_inventory_violations_and_summary(
    org: GitHubFake, config: Config
) -> None:
    report = audit(org, config, "--org", "acme")

    assert [r.repository for r in report.repositories] == [
        "acme/api",
        "acme/ci",
        "acme/docs",
        "acme/web",
        "acme/worker",
    ]
    assert report.skipped == {"acme/old": "archived", "acme/fork": "fork"}
    assert not report.failures
    by_name = {r.repository.split("/")[1]: r for r in report.repositories}
    assert {n: len(r.occurrences) for n, r in by_name.items()} == {
        "api": 2, "ci": 2, "docs": 0, "web": 3, "worker": 2,
    }  # fmt: skip
    assert {n: r.pinned_percent for n, r in by_name.items()} == {
        "api": 50.0, "ci": 0.0, "docs": None, "web": 33.3, "worker": 100.0,
    }  # fmt: skip
    assert report.references() == 9
    assert (report.pinned(), report.pinnable()) == (3, 8)

    found = sorted((v.occurrence.file, v.occurrence.line, v.rule.value) for v in report.violations)
    assert found == [
        ("acme/api/deploy/app.yaml", 12, "latest-tag"),
        ("acme/api/deploy/app.yaml", 12, "unpinned"),
        ("acme/ci/.github/workflows/ci.yml", 5, "unpinned"),
        ("acme/ci/.github/workflows/ci.yml", 8, "latest-tag"),
        ("acme/ci/.github/workflows/ci.yml", 8, "registry-not-allowed"),
        ("acme/ci/.github/workflows/ci.yml", 8, "unpinned"),
        ("acme/web/Dockerfile", 1, "unpinned"),
        ("acme/web/Dockerfile", 4, "unpinned"),
    ]
    assert {r.value: n for r, n in report.by_rule().items()} == {
        "unpinned": 5, "latest-tag": 2, "registry-not-allowed": 1,
    }  # fmt: skip
    assert exit_status(report) == 1

    [top, *_] = report.images()
    assert (top.image, top.repositories, top.references) == (
        "docker.io/library/nginx", ("acme/web", "acme/worker"), 2,
    )  # fmt: skip
    assert top.tags == ("1.27",)
    assert [(u.registry, u.repositories, u.references) for u in report.registries()] == [
        ("docker.io", 4, 6),
        ("ghcr.io", 1, 1),
        ("quay.io", 1, 1),
    ]


def test_reads_one_ref_one_tree_and_candidate_blobs_per_repository_and_writes_nothing(
    org: GitHubFake, config: Config
) -> None:
    report = audit(org, config, "--org", "acme")
    assert org.write_calls() == []
    gets = [c.path for c in org.calls if c.method == "GET"]
    assert len(gets) == len(org.calls)
    assert sum(p == "/orgs/acme/repos" for p in gets) == 1
    for name, blobs in CANDIDATES.items():
        mine = [p for p in gets if p.startswith(f"/repos/acme/{name}/")]
        assert sum("/git/ref/" in p for p in mine) == 1, name
        assert sum("/git/trees/" in p for p in mine) == 1, name
        assert sum("/git/blobs/" in p for p in mine) == blobs, name
        assert len(mine) == 2 + blobs, name
    assert report.github_calls == len(org.calls) == 1 + sum(2 + b for b in CANDIDATES.values())


def test_json_has_every_section_and_every_rule_key_even_when_none_is_found(
    org: GitHubFake, config: Config
) -> None:
    document = json.loads(_render(org, config, "json"))
    assert list(document) == [
        "summary", "repositories", "images", "registries", "inventory", "violations",
        "skipped", "lookup_errors", "run",
    ]  # fmt: skip
    summary = document["summary"]
    assert summary["references"] == 9 and summary["pinned"] == 3 and summary["pinnable"] == 8
    assert summary["pinned_percent"] == 37.5
    assert summary["violations"] == 8
    # Every rule is a key, found or not, so consumers need not guess.
    assert summary["violations_by_rule"] == {
        "unpinned": 5, "latest-tag": 2, "registry-not-allowed": 1,
        "digest-drift": 0, "digest-missing": 0, "invalid-reference": 0,
        "platform-unspecified": 0,
        "unsigned": 0, "signature-invalid": 0, "provenance-mismatch": 0,
    }  # fmt: skip
    assert summary["registries"] == ["docker.io", "ghcr.io", "quay.io"]
    assert summary["drift"] is False

    repositories = {r["repository"]: r for r in document["repositories"]}
    docs = repositories["acme/docs"]
    assert set(docs) == {
        "repository", "branch", "commit", "url", "files", "references", "pinned", "pinnable",
        "pinned_percent", "violations", "violations_by_rule", "warnings", "error",
    }  # fmt: skip
    assert (docs["references"], docs["pinned_percent"], docs["error"]) == (0, None, None)
    assert repositories["acme/web"]["commit"] == org.repo("acme", "web").refs["main"]
    assert repositories["acme/web"]["branch"] == "main"

    rows = document["inventory"]
    assert len(rows) == 9
    [quay] = [row for row in rows if row["registry"] == "quay.io"]
    assert quay == {
        "repository": "acme/ci",
        "file": ".github/workflows/ci.yml",
        "line": 8,
        "column": 16,
        "kind": "github-actions",
        "text": "quay.io/acme/db:latest",
        "reference": "quay.io/acme/db:latest",
        "status": "unpinned",
        "digest": None,
        "registry": "quay.io",
        "image": "quay.io/acme/db",
        "tag": "latest",
        "violations": ["unpinned", "latest-tag", "registry-not-allowed"],
    }
    [golang] = [row for row in rows if row["image"] == "docker.io/library/golang"]
    assert golang["reference"] == f"docker.io/library/golang:1.22@{A}"
    assert (golang["status"], golang["digest"], golang["violations"]) == ("pinned", A, [])
    [templated] = [row for row in rows if row["status"] == "templated"]
    assert templated["reference"] is None and templated["text"] == "postgres:${PG_VERSION:-16}"

    assert {v["repository"] for v in document["violations"]} == {"acme/api", "acme/ci", "acme/web"}
    assert set(document["violations"][0]) == {
        "repository", "file", "line", "column", "rule", "message", "text", "reference",
    }  # fmt: skip
    assert document["images"][0] == {
        "image": "docker.io/library/nginx",
        "repositories": ["acme/web", "acme/worker"],
        "references": 2,
        "tags": ["1.27"],
    }
    assert document["skipped"] == {"acme/fork": "fork", "acme/old": "archived"}
    assert set(document["run"]) == {"github_calls", "registry_requests", "seconds"}


def test_csv_has_the_header_and_one_row_per_reference(org: GitHubFake, config: Config) -> None:
    text = _render(org, config, "csv")
    assert text.splitlines()[0] == ",".join(CSV_COLUMNS)
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == 9
    assert [(r["repository"], r["file"], r["line"]) for r in rows[:2]] == [
        ("acme/api", "deploy/app.yaml", "10"),
        ("acme/api", "deploy/app.yaml", "12"),
    ]
    redis = rows[1]
    assert redis["reference"] == "docker.io/library/redis"
    assert (redis["status"], redis["digest"], redis["tag"]) == ("unpinned", "", "")
    assert redis["violations"] == "unpinned;latest-tag"
    templated = next(r for r in rows if r["status"] == "templated")
    assert templated["text"] == "postgres:${PG_VERSION:-16}" and templated["reference"] == ""


def test_markdown_has_the_summary_table_images_and_registries(
    org: GitHubFake, config: Config
) -> None:
    text = _render(org, config, "markdown")
    assert text.startswith("## pinbot audit\n")
    assert "| Repository | Commit | References | Pinned | Violations | By rule |" in text
    web = org.repo("acme", "web").refs["main"][:7]
    assert f"| `acme/web` | `{web}` | 3 | 33.3% | 2 | unpinned 2 |" in text
    assert "| `acme/docs` | " in text and "| 0 | n/a | 0 |" in text
    assert "| **Total** | | **9** | **37.5%** | **8** | unpinned 5, latest-tag 2, " in text
    assert "| `docker.io/library/nginx` | 2 | 2 | `1.27` |" in text
    assert "| `quay.io` | 1 | 1 |" in text
    assert "<details><summary>8 violations</summary>" in text
    assert "- `acme/ci/.github/workflows/ci.yml:8:16` registry-not-allowed:" in text


def test_sarif_results_name_the_repository(org: GitHubFake, config: Config) -> None:
    document = json.loads(_render(org, config, "sarif"))
    [run] = document["runs"]
    uris = {
        r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in run["results"]
    }
    assert uris == {
        "acme/api/deploy/app.yaml",
        "acme/ci/.github/workflows/ci.yml",
        "acme/web/Dockerfile",
    }
    assert len(run["results"]) == 8
    provenance = {p["properties"]["repository"]: p for p in run["versionControlProvenance"]}
    assert provenance["acme/web"]["revisionId"] == org.repo("acme", "web").refs["main"]


def test_text_gives_the_summary_then_the_violations(org: GitHubFake, config: Config) -> None:
    text = _render(org, config, "text")
    first, *rest = text.splitlines()
    assert first.startswith(
        "pinbot audit: 5 repositories, 9 references, 37.5% pinned, 8 violations "
        "(unpinned 5, latest-tag 2, registry-not-allowed 1); "
    )
    assert any(line.startswith("  acme/docs  ") and "n/a pinned" in line for line in rest)
    assert "left out by the filter: 2 (archived 1, fork 1)" in rest
    assert rest[rest.index("violations:") + 1 :] == [
        "acme/api/deploy/app.yaml:12:18: unpinned: redis is not pinned by digest",
        "acme/api/deploy/app.yaml:12:18: latest-tag: redis has no tag (means `latest`)",
        "acme/ci/.github/workflows/ci.yml:5:16: unpinned: node:20 is not pinned by digest",
        "acme/ci/.github/workflows/ci.yml:8:16: unpinned: quay.io/acme/db:latest is not pinned by digest",
        "acme/ci/.github/workflows/ci.yml:8:16: latest-tag: quay.io/acme/db:latest uses the `latest` tag",
        "acme/ci/.github/workflows/ci.yml:8:16: registry-not-allowed: quay.io/acme/db:latest: "
        "registry quay.io is not in policy.allowed-registries",
        "acme/web/Dockerfile:1:10: unpinned: docker/dockerfile:1 is not pinned by digest",
        "acme/web/Dockerfile:4:6: unpinned: nginx:1.27 is not pinned by digest",
    ]


def test_a_repository_that_cannot_be_read_is_reported_and_the_others_are_audited(
    org: GitHubFake,
    config_file: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    del org.repo("acme", "api").refs["main"]  # the default branch is gone: its ref is a 404
    _environment(monkeypatch, org)

    status = main(["audit", "--org", "acme", "--format", "json", "--config", str(config_file)])

    captured = capsys.readouterr()
    assert status == 3
    document = json.loads(captured.out)
    repositories = {r["repository"]: r for r in document["repositories"]}
    assert len(repositories) == 5
    assert repositories["acme/api"]["error"] == "acme/api: reading branch main: HTTP 404: Not Found"
    assert repositories["acme/web"]["error"] is None
    assert document["summary"]["failed"] == 1 and document["summary"]["audited"] == 4
    assert document["summary"]["references"] == 7
    assert "could not read acme/api: reading branch main: HTTP 404" in captured.err
    assert org.write_calls() == []
    assert org.token not in captured.out + captured.err


def test_a_named_repository_that_does_not_exist_fails_alone(
    org: GitHubFake, config: Config
) -> None:
    report = audit(org, config, "--repo", "acme/gone", "--repo", "acme/worker")
    assert [(r.repository, r.failure) for r in report.repositories] == [
        ("acme/gone", "acme/gone: reading the repository: HTTP 404: Not Found"),
        ("acme/worker", None),
    ]
    assert exit_status(report) == 3
    assert "could not be read: acme/gone: reading the repository" in _html(markdown.audit(report))
    assert org.write_calls() == []


def test_exit_status_is_0_clean_1_violations_2_usage_or_config_3_no_such_organisation(
    org: GitHubFake,
    config_file: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _environment(monkeypatch, org)
    config = ["--config", str(config_file)]
    assert main(["audit", "--repo", "acme/worker", *config]) == 0
    assert main(["audit", "--repo", "acme/docs", "--repo", "acme/web", *config]) == 1
    assert main(["audit", "--repo", "acme/web", "--include", "w*", *config]) == 2
    bad = tmp_path / "bad.yaml"
    bad.write_text("policy:\n  allowed-registries: 3\n", encoding="utf-8")
    with pytest.raises(SystemExit) as exited:
        main(["audit", "--repo", "acme/web", "--config", str(bad)])
    assert exited.value.code == 2
    with pytest.raises(SystemExit) as exited:  # argparse: --repo or --org is required
        main(["audit"])
    assert exited.value.code == 2
    assert main(["audit", "--org", "nobody", *config]) == 3
    monkeypatch.delenv("GITHUB_TOKEN")
    assert main(["audit", "--repo", "acme/web", *config]) == 2
    err = capsys.readouterr().err
    assert "need --org" in err and "set GITHUB_TOKEN" in err
    assert org.write_calls() == []


def test_shards_split_the_organisation_with_no_overlap_and_no_gap(
    org: GitHubFake, config: Config
) -> None:
    seen: list[str] = []
    for index in range(3):
        report = audit(org, config, "--org", "acme", "--shard", f"{index}/3")
        names = [r.repository for r in report.repositories]
        assert all(shard_of(name, 3) == index for name in names)
        seen.extend(names)
    assert sorted(seen) == ["acme/api", "acme/ci", "acme/docs", "acme/web", "acme/worker"]


def test_the_response_cache_makes_an_unchanged_second_audit_free(
    org: GitHubFake, config: Config, tmp_path: Path
) -> None:
    cache = str(tmp_path / "cache")
    first = audit(org, config, "--org", "acme", "--cache-dir", cache)
    second = audit(org, config, "--org", "acme", "--cache-dir", cache)
    assert first.github_calls == 15
    assert second.github_calls == 0  # 304s and reads by sha do not count
    assert second.references() == first.references() == 9
    assert org.write_calls() == []


def test_percent_is_none_of_nothing_and_rounded_to_one_place() -> None:
    assert [percent(0, 0), percent(1, 3), percent(3, 3)] == [None, 33.3, 100.0]


# --- drift, against a real registry -------------------------------------------------------


@pytest.fixture
def registry_config(tmp_path: Path, registry_http: RunningRegistry) -> Config:
    path = tmp_path / "registry.yaml"
    path.write_text(f'registries:\n  "{registry_http.host}":\n    insecure: true\n', "utf-8")
    return load_config(path)


def test_drift_after_a_tag_moves_and_a_digest_is_deleted(
    fake: GitHubFake, registry_http: RunningRegistry, registry_config: Config
) -> None:
    reg = registry_http
    old = reg.push_image("audit/app", "1", seed="audit app one").digest
    doomed = reg.push_image("audit/tool", None, seed="audit tool, soon deleted").digest
    app = reg.ref("audit/app", "1")
    fake.create_repo("acme", "one", {"Dockerfile": f"FROM {app}@{old}\n".encode()})
    fake.create_repo(
        "acme",
        "two",
        {
            "Dockerfile": f"FROM {app}@{old}\nFROM {reg.ref('audit/tool', doomed)}\n".encode(),
            "compose.yaml": f"services:\n  app:\n    image: {app}@{old}\n".encode(),
        },
    )

    before = audit(fake, registry_config, "--org", "acme", "--drift")
    assert before.violations == [] and before.lookup_errors == []
    assert exit_status(before) == 0

    new = reg.push_image("audit/app", "1", seed="audit app two").digest
    reg.delete("audit/tool", doomed)
    after = audit(fake, registry_config, "--org", "acme", "--drift")
    found = [(v.occurrence.location, v.rule.value, v.message) for v in after.violations]
    shown = f"{app}@{old}"
    assert found == [
        ("acme/one/Dockerfile:1:6", "digest-drift", f"{shown}: tag 1 now points to {new}"),
        ("acme/two/Dockerfile:1:6", "digest-drift", f"{shown}: tag 1 now points to {new}"),
        (
            "acme/two/Dockerfile:2:6",
            "digest-missing",
            f"{reg.ref('audit/tool', doomed)}: {doomed} no longer exists in {reg.host}/audit/tool",
        ),
        ("acme/two/compose.yaml:3:12", "digest-drift", f"{shown}: tag 1 now points to {new}"),
    ]
    assert exit_status(after) == 1
    document = json.loads(_render_report(after, "json"))
    assert document["summary"]["drift"] is True
    assert document["summary"]["violations_by_rule"]["digest-drift"] == 3
    assert fake.write_calls() == []

    # One lookup per unique tag for the whole run: a second repository using the same tag
    # costs no registry request.
    alone = audit(fake, registry_config, "--repo", "acme/one", "--drift")
    both = audit(fake, registry_config, "--repo", "acme/one", "--repo", "acme/two", "--drift")
    tool_only = 1  # the existence check of the deleted digest
    assert both.registry_requests == alone.registry_requests + tool_only
    # Without --drift nothing is asked of the registry and the pins are fine.
    offline = audit(fake, registry_config, "--org", "acme")
    assert offline.violations == [] and offline.registry_requests == 0


# --- helpers ---------------------------------------------------------------------------------


def _environment(monkeypatch: pytest.MonkeyPatch, fake: GitHubFake) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", fake.token)
    monkeypatch.setenv("GITHUB_API_URL", fake.url)
    for name in ("PINBOT_APP_ID", "GH_TOKEN"):
        monkeypatch.delenv(name, raising=False)


def _render(fake: GitHubFake, config: Config, fmt: str) -> str:
    return _render_report(audit(fake, config, "--org", "acme"), fmt)


def _render_report(report: AuditReport, fmt: str) -> str:
    return RENDERERS[fmt](report)


def test_csv_cells_from_repositories_cannot_act_as_formulas() -> None:
    assert inert("=HYPERLINK(\"http://x\")") == "'=HYPERLINK(\"http://x\")"
    assert inert("@SUM(A1)") == "'@SUM(A1)"
    assert inert("nginx:1.27") == "nginx:1.27"
    assert inert(12) == 12


def _html(markdown_text: str) -> str:
    """The text a reader sees: Markdown rendered as GitHub does, tags removed."""
    import html
    import re

    import cmarkgfm

    rendered = cmarkgfm.github_flavored_markdown_to_html(markdown_text)
    return html.unescape(re.sub(r"<[^>]+>", "", rendered))
