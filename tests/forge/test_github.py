"""The GitHub forge against the GitHub fake over real HTTP: listing, reading, auth, counting."""

from __future__ import annotations

import json
import os
import socket
import time
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from github.Repository import Repository

from pinbot.forge.cache import CachedAnswer, ResponseCache
from pinbot.forge.github import (
    ApiCalls,
    Credentials,
    CredentialsError,
    ForgeError,
    GitHubForge,
    Pacing,
    RepositoryFilter,
    Snapshot,
    connect,
    git_blob_id,
    is_candidate,
    shard_of,
)
from tests.support.fault_proxy import FaultProxy
from tests.support.github_fake import GitHubFake

FAST = Pacing(between_requests=0.0, between_writes=0.0)


def forge_for(fake: GitHubFake, pacing: Pacing = FAST) -> GitHubForge:
    github, calls = connect(Credentials(token=fake.token, api_url=fake.url), pacing=pacing)
    return GitHubForge(github, calls)


def test_organisation_listing_skips_archived_and_forks_and_applies_globs_and_topics(
    fake: GitHubFake,
) -> None:
    fake.create_repo("acme", "web", {}, topics=["containers"])
    fake.create_repo("acme", "api", {}, topics=["containers", "go"])
    fake.create_repo("acme", "old", {}, archived=True, topics=["containers"])
    fake.create_repo("acme", "fork-of-x", {}, fork=True)
    fake.create_repo("acme", "docs", {})
    forge = forge_for(fake)

    kept, skipped = forge.organisation_repositories("acme", RepositoryFilter())
    assert sorted(r.full_name for r in kept) == ["acme/api", "acme/docs", "acme/web"]
    assert skipped == {"acme/old": "archived", "acme/fork-of-x": "fork"}

    kept, _ = forge.organisation_repositories(
        "acme", RepositoryFilter(include_archived=True, include_forks=True, exclude=("doc*",))
    )
    assert sorted(r.name for r in kept) == ["api", "fork-of-x", "old", "web"]

    kept, skipped = forge.organisation_repositories(
        "acme", RepositoryFilter(include=("w*", "a*"), topics=("go",))
    )
    assert [r.name for r in kept] == ["api"]
    assert skipped["acme/web"] == "no wanted topic"
    assert skipped["acme/docs"] == "not matched by --include"


def test_snapshot_reads_one_ref_one_tree_and_candidate_blobs_only(fake: GitHubFake) -> None:
    files = {
        "Dockerfile": b"FROM nginx:1.27\n",
        "k8s/deploy.yaml": b"kind: Pod\nspec:\n  containers:\n    - image: redis:7\n",
        "README.md": b"# hi\n",
        "src/app.py": b"print(1)\n",
        "vendor/Dockerfile": b"FROM alpine:3\n",
    }
    fake.create_repo("acme", "web", files)
    forge = forge_for(fake)
    repo = forge.repository("acme/web")
    fake.reset_calls()
    with forge.calls.scoped("acme/web"):
        snapshot = forge.snapshot(repo, ignore_paths=("vendor/*",))
    assert set(snapshot.files) == {"Dockerfile", "k8s/deploy.yaml"}
    assert snapshot.files["Dockerfile"] == files["Dockerfile"]
    assert snapshot.entries["README.md"].sha == git_blob_id(b"# hi\n")
    assert snapshot.commit == fake.repo("acme", "web").refs["main"]
    paths = [c.path for c in fake.calls]
    assert paths[0].endswith("/git/ref/heads/main")
    assert sum("/git/trees/" in p for p in paths) == 1
    assert sum("/git/blobs/" in p for p in paths) == 2
    assert forge.calls.requests["acme/web"] == len(fake.calls) == 4


def test_a_tree_first_then_one_file_then_the_candidates_costs_the_same_as_a_snapshot(
    fake: GitHubFake,
) -> None:
    files = {
        "Dockerfile": b"FROM nginx:1.27\n",
        ".github/pinbot.yaml": b"enabled: true\n",
        "docs/app.yaml": b"image: redis:7\n",
        "README.md": b"# hi\n",
    }
    fake.create_repo("acme", "web", files)
    forge = forge_for(fake)
    repo = forge.repository("acme/web")
    fake.reset_calls()
    snapshot = forge.read_tree(repo)
    assert snapshot.files == {} and set(snapshot.entries) == set(files)
    assert len(fake.calls) == 2  # the ref and the recursive tree
    assert forge.read_file(repo, snapshot, ".github/pinbot.yaml") == b"enabled: true\n"
    forge.read_candidates(repo, snapshot, ("docs/*", ".github/pinbot.yaml"))
    assert set(snapshot.files) == {"Dockerfile"}
    assert sum("/git/blobs/" in c.path for c in fake.calls) == 2
    # The one-call form still reads the same files as before.
    assert set(forge.snapshot(repo).files) == {"Dockerfile", ".github/pinbot.yaml", "docs/app.yaml"}


def test_only_files_a_scanner_reads_and_not_ignored_are_candidates() -> None:
    assert is_candidate("Dockerfile")
    assert is_candidate("deploy/app.yaml")
    assert not is_candidate("README.md")
    assert not is_candidate("deploy/app.yaml", ignore_paths=("deploy/*",))


def test_writes_are_paced_and_reads_are_not(fake: GitHubFake) -> None:
    fake.create_repo("acme", "web", {"Dockerfile": b"FROM nginx\n"})
    forge = forge_for(fake, Pacing(between_requests=0.0, between_writes=0.3))
    repo = forge.repository("acme/web")
    started = time.monotonic()
    snapshot = forge.snapshot(repo)
    reads = time.monotonic() - started
    assert reads < 1.0  # reads are not slowed down
    started = time.monotonic()
    commit = forge.commit(repo, snapshot, {"Dockerfile": b"FROM nginx:1\n"}, "one")
    forge.move_branch(repo, "pinbot/x", commit, exists=None)
    assert time.monotonic() - started >= 0.3 * 2  # three writes, two pauses between them


def test_secondary_rate_limit_with_retry_after_is_waited_out_and_counted(fake: GitHubFake) -> None:
    fake.create_repo("acme", "web", {})
    forge = forge_for(fake)
    fake.inject_secondary_rate_limit(times=2, retry_after=1, method="GET")
    started = time.monotonic()
    with forge.calls.scoped("acme/web"):
        repo = forge.repository("acme/web")
    assert repo.full_name == "acme/web"
    assert time.monotonic() - started >= 2
    assert [c.status for c in fake.calls] == [403, 403, 200]
    assert forge.calls.requests["acme/web"] == 3
    assert forge.calls.retries["acme/web"] == 2


def test_429_is_retried_too(fake: GitHubFake) -> None:
    fake.create_repo("acme", "web", {})
    forge = forge_for(fake)
    fake.inject_secondary_rate_limit(times=1, retry_after=1, status=429)
    assert forge.repository("acme/web").name == "web"
    assert [c.status for c in fake.calls] == [429, 200]


def test_github_app_installation_token_is_found_and_used(fake: GitHubFake) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    public_pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    fake.register_app(4242, public_pem)
    fake.create_installation(4242, "acme")
    fake.create_repo("acme", "web", {"Dockerfile": b"FROM nginx:1\n"})

    credentials = Credentials.from_environment(
        {
            "PINBOT_APP_ID": "4242",
            "PINBOT_APP_PRIVATE_KEY": private_pem,
            "GITHUB_API_URL": fake.url + "/",
        }
    )
    assert private_pem not in repr(credentials)
    github, calls = connect(credentials, pacing=FAST, installation_owner="acme")
    forge = GitHubForge(github, calls)
    kept, _ = forge.organisation_repositories("acme", RepositoryFilter())
    assert [r.full_name for r in kept] == ["acme/web"]
    assert any(c.path.endswith("/access_tokens") for c in fake.calls)
    assert calls.total() >= 1


def test_credentials_come_from_the_environment_and_never_show_the_token() -> None:
    token = Credentials.from_environment({"GITHUB_TOKEN": "ghs_secret"})
    assert token.token == "ghs_secret" and token.api_url == "https://api.github.com"
    assert "ghs_secret" not in repr(token)
    enterprise = Credentials.from_environment(
        {"GITHUB_TOKEN": "t", "GITHUB_API_URL": "https://ghe.example.com/api/v3"}
    )
    assert enterprise.api_url == "https://ghe.example.com/api/v3"
    with pytest.raises(ValueError, match="GITHUB_TOKEN"):
        Credentials.from_environment({})
    with pytest.raises(ValueError, match="PRIVATE_KEY"):
        Credentials.from_environment({"PINBOT_APP_ID": "1"})


def test_shards_are_stable_and_cover_everything() -> None:
    names = [f"acme/repo-{i}" for i in range(200)]
    shards = [shard_of(name, 5) for name in names]
    assert shards == [shard_of(name.upper(), 5) for name in names]  # case does not matter
    assert set(shards) == {0, 1, 2, 3, 4}
    assert (
        shard_of("acme/web", 7)
        == int.from_bytes(__import__("hashlib").sha256(b"acme/web").digest()[:8], "big") % 7
    )


def test_api_calls_are_counted_per_scope() -> None:
    calls = ApiCalls()
    calls.request()
    with calls.scoped("a/b"):
        calls.request()
        calls.retry()
        calls.write()
    assert calls.requests == {"(run)": 1, "a/b": 2}
    assert calls.retries["a/b"] == 1 and calls.writes["a/b"] == 1 and calls.total() == 3


def cached_forge_for(fake: GitHubFake, cache: Path) -> GitHubForge:
    github, calls = connect(Credentials(token=fake.token, api_url=fake.url), pacing=FAST)
    return GitHubForge(github, calls, ResponseCache(cache))


def test_cached_reads_are_conditional_and_trees_and_blobs_are_not_asked_again(
    fake: GitHubFake, tmp_path: Path
) -> None:
    fake.create_repo("acme", "web", {"Dockerfile": b"FROM nginx:1.27\n", "README.md": b"x\n"})
    first = cached_forge_for(fake, tmp_path / "cache")
    with first.calls.scoped("acme/web"):
        snapshot = first.snapshot(first.repository("acme/web"))
    assert [c.status for c in fake.calls] == [200, 200, 200, 200]  # repo, ref, tree, blob
    assert first.calls.cached["acme/web"] == first.calls.not_modified["acme/web"] == 0

    fake.reset_calls()
    again = cached_forge_for(fake, tmp_path / "cache")
    with again.calls.scoped("acme/web"):
        repo = again.repository("acme/web")
        assert again.snapshot(repo).files == snapshot.files
    assert repo.full_name == "acme/web" and repo.default_branch == "main"
    assert [(c.status, c.path) for c in fake.calls] == [
        (304, "/repos/acme/web"),
        (304, "/repos/acme/web/git/ref/heads/main"),
    ]
    assert again.calls.requests["acme/web"] == 2 and again.calls.counted("acme/web") == 0
    assert again.calls.cached["acme/web"] == 2
    # No request header, so no credential, is ever kept.
    kept = [path.read_text() for path in (tmp_path / "cache").glob("*/*.json")]
    assert len(kept) == 4 and not any(fake.token in text for text in kept)


def test_a_damaged_cache_entry_is_a_miss(fake: GitHubFake, tmp_path: Path) -> None:
    fake.create_repo("acme", "web", {})
    cached_forge_for(fake, tmp_path).repository("acme/web")
    [entry] = tmp_path.glob("*/*.json")
    entry.write_text("{not json")
    fake.reset_calls()
    assert cached_forge_for(fake, tmp_path).repository("acme/web").name == "web"
    assert [c.status for c in fake.calls] == [200]
    assert json.loads(entry.read_text())["url"].endswith("/repos/acme/web")


def test_cache_prune_removes_entries_unused_for_a_while(tmp_path: Path) -> None:
    cache = ResponseCache(tmp_path)
    cache.put(CachedAnswer("https://api.github.com/old", "{}", etag='"a"'))
    cache.put(CachedAnswer("https://api.github.com/new", "{}", etag='"b"'))
    [old] = [p for p in tmp_path.glob("*/*.json") if "old" in p.read_text()]
    long_ago = time.time() - 40 * 86_400
    os.utime(old, (long_ago, long_ago))
    assert cache.prune(max_age_days=30) == 1
    assert cache.get("https://api.github.com/old") is None
    answer = cache.get("https://api.github.com/new")
    assert answer is not None and answer.conditional_headers() == {"If-None-Match": '"b"'}


def test_every_page_of_pull_requests_is_read(fake: GitHubFake, tmp_path: Path) -> None:
    fake.create_repo("acme", "web", {"Dockerfile": b"FROM nginx\n"})
    forge = cached_forge_for(fake, tmp_path)
    repo = forge.repository("acme/web")
    for i in range(105):  # a pull request from each of 105 branches
        branch = f"pinbot/b{i:03d}"
        fake.commit_files("acme", "web", branch, {f"f{i}": b"x\n"}, f"change {i}")
        forge.open_pull(repo, branch=branch, base="main", title=f"t{i}", body="", draft=False)

    fake.reset_calls()
    pulls = forge.open_pulls_under(repo, "pinbot/")
    assert len(pulls) == 105 and len({p.number for p in pulls}) == 105
    assert [c.status for c in fake.calls] == [200, 200]  # two pages of 100
    assert "page=2" in fake.calls[1].query

    fake.reset_calls()
    assert len(forge.open_pulls_under(repo, "pinbot/")) == 105
    assert [c.status for c in fake.calls] == [304, 304]  # each page kept its own ETag


def test_docstring_examples_hold() -> None:
    import doctest

    import pinbot.forge.github

    assert doctest.testmod(pinbot.forge.github).failed == 0


# --- every failure is a ForgeError ------------------------------------------------------------


def _proxied_forge(fake: GitHubFake, proxy: FaultProxy) -> GitHubForge:
    # No retries: a dropped connection fails at once instead of after backing off.
    github, calls = connect(
        Credentials(token=fake.token, api_url=proxy.url), pacing=Pacing(0.0, 0.0, attempts=0)
    )
    return GitHubForge(github, calls)


def test_an_answer_github_does_not_document_is_a_forge_error(fake: GitHubFake) -> None:
    fake.create_repo("acme", "web", {"Dockerfile": b"FROM nginx:1\n"})
    with FaultProxy(fake.url) as proxy:
        forge = _proxied_forge(fake, proxy)
        repo = forge.repository("acme/web")
        proxy.inject(path_contains="/git/trees/", status=200, body=b"[]")
        with pytest.raises(ForgeError, match=r"^acme/web: reading branch main: an answer GitHub"):
            forge.read_tree(repo)
        proxy.inject(path_contains="/git/blobs/", status=200, body=b'{"content": "not base64!"}')
        snapshot = forge.read_tree(repo)
        with pytest.raises(ForgeError, match="reading Dockerfile on main"):
            forge.read_file(repo, snapshot, "Dockerfile")


def _closed_port() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{probe.getsockname()[1]}"


def test_github_not_answering_is_a_forge_error() -> None:
    api = _closed_port()
    github, calls = connect(
        Credentials(token="t", api_url=api), pacing=Pacing(0.0, 0.0, attempts=0)
    )
    forge = GitHubForge(github, calls)
    with pytest.raises(ForgeError, match="reading the repository: no answer from GitHub"):
        forge.repository("acme/web")
    raw = {"url": f"{api}/repos/acme/web", "full_name": "acme/web", "owner": {"login": "acme"}}
    repo = github.create_from_raw_data(Repository, raw)
    snapshot = Snapshot("acme/web", "main", "c" * 40, "t" * 40, {})
    with pytest.raises(ForgeError, match="writing the commit: no answer from GitHub"):
        forge.commit(repo, snapshot, {"Dockerfile": b"FROM nginx:2\n"}, "pin")
    with pytest.raises(ForgeError, match="listing pull requests: no answer from GitHub"):
        forge.pulls_for_branch(repo, "pinbot/image-digests")
    ownerless = github.create_from_raw_data(Repository, {**raw, "owner": None})
    with pytest.raises(ForgeError, match="listing pull requests: an answer GitHub does not"):
        forge.pulls_for_branch(ownerless, "pinbot/image-digests")


def test_an_answer_whose_urls_point_elsewhere_is_a_forge_error(fake: GitHubFake) -> None:
    fake.create_repo("acme", "web", {"Dockerfile": b"FROM nginx:1\n"})
    with FaultProxy(fake.url) as proxy:
        # Asked through the proxy, the fake answers with URLs on its own port.
        forge = _proxied_forge(fake, proxy)
        repo = forge.repository("acme/web")
        assert not repo.url.startswith(proxy.url)
        with pytest.raises(ForgeError, match="writing the commit: an answer GitHub does not"):
            forge.commit(repo, forge.read_tree(repo), {"Dockerfile": b"FROM nginx:2\n"}, "x")


def test_credentials_that_cannot_be_used_are_a_forge_error_and_a_value_error(
    tmp_path: Path,
) -> None:
    with pytest.raises(CredentialsError) as caught:
        Credentials.from_environment(
            {"PINBOT_APP_ID": "1", "PINBOT_APP_PRIVATE_KEY_FILE": str(tmp_path / "missing.pem")}
        )
    assert isinstance(caught.value, ForgeError) and isinstance(caught.value, ValueError)
    assert "PINBOT_APP_PRIVATE_KEY_FILE cannot be read" in str(caught.value)
    with pytest.raises(CredentialsError, match="no GitHub credentials"):
        connect(Credentials())
