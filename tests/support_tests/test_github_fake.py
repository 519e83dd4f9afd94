"""The GitHub fake, driven through PyGithub over real HTTP."""

from __future__ import annotations

import base64
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import github
import pytest
from github import Auth, GithubException, GithubRetry, InputGitTreeElement

from tests.support.github_fake import Call, GitHubFake
from tests.support.gitobjects import blob_sha

REPO_ROOT = Path(__file__).resolve().parents[2]

FILES = {
    "Dockerfile": b"FROM nginx:1.27\nRUN echo hi\n",
    "deploy/k8s/web.yaml": b"spec:\n  containers:\n    - image: redis:7\n",
    "deploy/compose.yaml": b"services:\n  db:\n    image: postgres:16\n",
    "README.md": "caf\u00e9 \u2615\n".encode(),
    "bin/blob.dat": bytes(range(256)),
}


@pytest.fixture
def fake() -> Iterator[GitHubFake]:
    with GitHubFake() as f:
        f.create_org("acme")
        f.create_user("alice")
        f.create_repo("acme", "web", FILES, topics=["docker"])
        yield f


def client(fake: GitHubFake, retry: object = None, token: str | None = None) -> github.Github:
    return github.Github(
        base_url=fake.url,
        auth=Auth.Token(token or fake.token),
        seconds_between_requests=0,
        seconds_between_writes=0,
        retry=retry,  # type: ignore[arg-type]
    )


def raw(
    fake: GitHubFake,
    method: str,
    path: str,
    body: object = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, dict[str, str], object]:
    """A request with urllib, to look at headers and status codes directly."""
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(fake.url + path, data=data, method=method)
    req.add_header("Authorization", f"token {fake.token}")
    for k, v in (headers or {}).items():
        req.add_header(k, v)
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            payload = resp.read()
            status, hdrs = resp.status, dict(resp.headers)
    except urllib.error.HTTPError as err:
        payload = err.read()
        status, hdrs = err.code, dict(err.headers)
    return status, hdrs, json.loads(payload) if payload else None


# --------------------------------------------------------------------------- git objects


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_object_ids_match_git(fake: GitHubFake, tmp_path: Path) -> None:
    for data in FILES.values():
        out = subprocess.run(
            ["git", "hash-object", "--stdin"], input=data, capture_output=True, check=True
        )
        assert out.stdout.decode().strip() == blob_sha(data)

    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "human",
        "GIT_AUTHOR_EMAIL": "human@example.com",
        "GIT_COMMITTER_NAME": "human",
        "GIT_COMMITTER_EMAIL": "human@example.com",
        "GIT_CONFIG_NOSYSTEM": "1",
        "HOME": str(tmp_path),
    }

    def git(*args: str, stdin: bytes | None = None) -> str:
        done = subprocess.run(
            ["git", *args],
            cwd=tmp_path / "w",
            env=env,
            input=stdin,
            capture_output=True,
            check=True,
        )
        return done.stdout.decode().strip()

    (tmp_path / "w").mkdir()
    git("init", "-q")
    for path, data in FILES.items():
        (tmp_path / "w" / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "w" / path).write_bytes(data)
    git("add", ".")
    tree = git("write-tree")

    repo = fake.repo("acme", "web")
    head = repo.refs["main"]
    commit = repo.objects.commits[head]
    assert commit.tree == tree
    date = f"{commit.author.timestamp} +0000"
    env["GIT_AUTHOR_DATE"] = env["GIT_COMMITTER_DATE"] = date
    assert git("commit-tree", tree, stdin=b"Initial commit") == head

    # the API reports the same ids
    gh = client(fake)
    api_tree = gh.get_repo("acme/web").get_git_tree("main", recursive=True)
    assert api_tree.sha == tree
    listed = git("ls-tree", "-r", "-t", tree).splitlines()
    expected = []
    for line in listed:
        meta, path = line.split("\t")
        mode, kind, sha = meta.split()
        expected.append((path, mode.zfill(6), kind, sha))
    assert [(e.path, e.mode, e.type, e.sha) for e in api_tree.tree] == expected


# --------------------------------------------------------------------------- the bot flow


def test_a_pull_request_is_written_opened_updated_force_pushed_and_merged_as_on_github(
    fake: GitHubFake
) -> None:
    gh = client(fake)
    repo = gh.get_repo("acme/web")
    assert repo.default_branch == "main"
    assert repo.get_topics() == ["docker"]
    main_sha = repo.get_branch("main").commit.sha

    # read everything: one recursive tree and the blobs
    tree = repo.get_git_tree(main_sha, recursive=True)
    assert not tree.raw_data["truncated"]
    blobs = {e.path: e for e in tree.tree if e.type == "blob"}
    assert set(blobs) == set(FILES)
    for path, entry in blobs.items():
        assert entry.size == len(FILES[path])
        blob = repo.get_git_blob(entry.sha)
        assert blob.encoding == "base64"
        assert base64.b64decode(blob.content) == FILES[path]
        assert entry.sha == blob_sha(FILES[path])

    # write: blob, tree on top of base_tree (one change, one deletion), commit, ref
    new_dockerfile = b"FROM nginx:1.27@sha256:" + b"a" * 64 + b"\nRUN echo hi\n"
    blob = repo.create_git_blob(base64.b64encode(new_dockerfile).decode(), "base64")
    assert blob.sha == blob_sha(new_dockerfile)
    new_tree = repo.create_git_tree(
        [
            InputGitTreeElement("Dockerfile", "100644", "blob", sha=blob.sha),
            InputGitTreeElement("deploy/compose.yaml", "100644", "blob", content="image: x\n"),
            InputGitTreeElement("bin/blob.dat", "100644", "blob", sha=None),
        ],
        base_tree=repo.get_git_tree(tree.sha),
    )
    base_commit = repo.get_git_commit(main_sha)
    commit = repo.create_git_commit("Pin nginx:1.27", new_tree, [base_commit])
    assert commit.parents[0].sha == main_sha
    assert commit.tree.sha == new_tree.sha
    ref = repo.create_git_ref("refs/heads/pinbot/nginx", commit.sha)
    assert ref.object.sha == commit.sha
    assert fake.file_at("acme", "web", "pinbot/nginx", "Dockerfile") == new_dockerfile
    assert fake.file_at("acme", "web", "pinbot/nginx", "bin/blob.dat") is None
    assert (
        fake.file_at("acme", "web", "pinbot/nginx", "deploy/k8s/web.yaml")
        == FILES["deploy/k8s/web.yaml"]
    )
    with pytest.raises(GithubException) as exc:
        repo.create_git_ref("refs/heads/pinbot/nginx", commit.sha)
    assert exc.value.status == 422

    # the bot's branch read back through the ref API
    assert repo.get_git_ref("heads/pinbot/nginx").object.sha == commit.sha
    cmp = repo.compare("main", "pinbot/nginx")
    assert (cmp.status, cmp.ahead_by, cmp.behind_by) == ("ahead", 1, 0)
    assert {f.filename for f in cmp.files} == {"Dockerfile", "deploy/compose.yaml", "bin/blob.dat"}

    # open the pull request, decorate it
    pr = repo.create_pull(base="main", head="pinbot/nginx", title="Pin nginx", body="body v1")
    assert (pr.number, pr.state, pr.merged, pr.draft) == (1, "open", False, False)
    assert pr.head.ref == "pinbot/nginx" and pr.head.sha == commit.sha
    assert pr.base.ref == "main" and pr.head.label == "acme:pinbot/nginx"
    assert pr.mergeable is None  # not computed yet on the first read
    pr.add_to_labels("dependencies", "pinbot")
    pr.create_review_request(reviewers=["alice"], team_reviewers=["platform"])
    pr.add_to_assignees("alice")
    pr.create_issue_comment("digest verified")
    assert [lb.name for lb in pr.get_labels()] == ["dependencies", "pinbot"]
    users, teams = pr.get_review_requests()
    assert [u.login for u in users] == ["alice"] and [t.slug for t in teams] == ["platform"]
    assert [c.body for c in pr.get_issue_comments()] == ["digest verified"]
    assert sorted(f.filename for f in pr.get_files()) == [
        "Dockerfile",
        "bin/blob.dat",
        "deploy/compose.yaml",
    ]

    # a second PR for the same head and base is refused
    with pytest.raises(GithubException) as exc:
        repo.create_pull(base="main", head="pinbot/nginx", title="again")
    assert exc.value.status == 422
    assert "already exists" in json.dumps(exc.value.data)

    # find it again the way a bot does; without OWNER: the head filter is ignored
    found = list(repo.get_pulls(state="open", head="acme:pinbot/nginx", base="main"))
    assert [p.number for p in found] == [1]
    assert list(repo.get_pulls(state="open", head="someone-else:pinbot/nginx")) == []
    assert [p.number for p in repo.get_pulls(state="open", head="no-such-branch")] == [1]

    # mergeable is computed on the next read
    again = repo.get_pull(1)
    assert again.mergeable is True and again.mergeable_state == "clean"
    assert [a.login for a in again.assignees] == ["alice"]

    # update it
    again.edit(title="Pin nginx:1.27", body="body v2")
    assert repo.get_pull(1).title == "Pin nginx:1.27"

    # force-push a rebuilt commit; a plain update that is not a fast forward is refused
    rebuilt = repo.create_git_commit("Pin nginx:1.27 (v2)", new_tree, [base_commit])
    with pytest.raises(GithubException) as exc:
        ref.edit(rebuilt.sha)
    assert exc.value.status == 422
    ref.edit(rebuilt.sha, force=True)
    assert repo.get_pull(1).head.sha == rebuilt.sha

    # close and reopen, then merge through the API
    again.edit(state="closed")
    assert repo.get_pull(1).state == "closed"
    again.edit(state="open")
    status = again.merge(merge_method="merge")
    assert status.merged
    merged = repo.get_pull(1)
    assert merged.merged and merged.state == "closed" and merged.merged_at is not None
    assert fake.file_at("acme", "web", "main", "Dockerfile") == new_dockerfile
    merge_commit = repo.get_git_commit(merged.merge_commit_sha)
    assert [p.sha for p in merge_commit.parents] == [main_sha, rebuilt.sha]

    # delete the branch
    repo.get_git_ref("heads/pinbot/nginx").delete()
    assert "pinbot/nginx" not in fake.repo("acme", "web").refs

    writes = [(c.method, c.path) for c in fake.write_calls()]
    assert ("POST", "/repos/acme/web/pulls") in writes
    assert ("PATCH", "/repos/acme/web/git/refs/heads/pinbot/nginx") in writes
    assert all(c.method not in ("GET", "HEAD") for c in fake.write_calls())


def test_pull_without_commits_is_refused(fake: GitHubFake) -> None:
    repo = client(fake).get_repo("acme/web")
    repo.create_git_ref("refs/heads/empty", fake.repo("acme", "web").refs["main"])
    with pytest.raises(GithubException) as exc:
        repo.create_pull(base="main", head="empty", title="nothing")
    assert exc.value.status == 422
    assert "No commits between" in json.dumps(exc.value.data)


def test_bodies_over_githubs_limit_are_refused_counting_astral_characters_twice(
    fake: GitHubFake,
) -> None:
    repo = client(fake).get_repo("acme/web")
    fake.commit_files("acme", "web", "topic", {"new.txt": b"x\n"}, "add a file")
    too_long = ["x" * 65_537, "\U0001f308" * 32_768 + "x"]  # 65,537 UTF-16 code units each
    for body in too_long:
        with pytest.raises(GithubException) as exc:
            repo.create_pull(base="main", head="topic", title="t", body=body)
        assert exc.value.status == 422
        assert "body is too long (maximum is 65536 characters)" in json.dumps(exc.value.data)
    pull = repo.create_pull(base="main", head="topic", title="t", body="\U0001f308" * 32_768)
    with pytest.raises(GithubException):
        pull.edit(title="changed", body="x" * 65_537)
    assert fake.pulls("acme", "web")[0].title == "t"  # a refused edit changes nothing
    with pytest.raises(GithubException):
        pull.create_issue_comment("y" * 65_537)
    pull.create_issue_comment("y" * 65_536)


def test_conflicting_base_change_makes_pull_unmergeable(fake: GitHubFake) -> None:
    fake.commit_files("acme", "web", "pinbot/x", {"Dockerfile": b"FROM nginx:1.28\n"}, "bump")
    repo = client(fake).get_repo("acme/web")
    pr = repo.create_pull(base="main", head="pinbot/x", title="bump")
    assert repo.get_pull(pr.number).mergeable is True
    # a human edits the same file on main
    fake.commit_files("acme", "web", "main", {"Dockerfile": b"FROM nginx:1.26\n"}, "by hand")
    first = repo.get_pull(pr.number)
    assert first.mergeable is None
    second = repo.get_pull(pr.number)
    assert second.mergeable is False and second.mergeable_state == "dirty"
    cmp = repo.compare("main", "acme:pinbot/x")
    assert (cmp.status, cmp.ahead_by, cmp.behind_by) == ("diverged", 1, 1)
    with pytest.raises(GithubException) as exc:
        second.merge()
    assert exc.value.status == 405


def test_close_pull_merged_applies_head_on_base(fake: GitHubFake) -> None:
    fake.commit_files("acme", "web", "pinbot/y", {"deploy/compose.yaml": b"new\n"}, "bump")
    fake.commit_files("acme", "web", "main", {"README.md": b"edited\n"}, "docs")
    repo = client(fake).get_repo("acme/web")
    pr = repo.create_pull(base="main", head="pinbot/y", title="bump")
    fake.close_pull("acme", "web", pr.number, merged=True)
    got = repo.get_pull(pr.number)
    assert got.merged and got.state == "closed"
    assert fake.file_at("acme", "web", "main", "deploy/compose.yaml") == b"new\n"
    assert fake.file_at("acme", "web", "main", "README.md") == b"edited\n"
    assert len(fake.repo("acme", "web").objects.commits[got.merge_commit_sha].parents) == 2
    assert [p.number for p in repo.get_pulls(state="closed")] == [pr.number]
    assert list(repo.get_pulls()) == []
    assert fake.pulls("acme", "web")[0].merged


def test_deleting_head_branch_closes_pull(fake: GitHubFake) -> None:
    fake.commit_files("acme", "web", "pinbot/z", {"Dockerfile": b"x\n"}, "x")
    repo = client(fake).get_repo("acme/web")
    pr = repo.create_pull(base="main", head="pinbot/z", title="z")
    repo.get_git_ref("heads/pinbot/z").delete()
    assert repo.get_pull(pr.number).state == "closed"


def test_contents_gives_a_file_or_a_directory_listing_and_404_for_neither(fake: GitHubFake) -> None:
    repo = client(fake).get_repo("acme/web")
    f = repo.get_contents("deploy/k8s/web.yaml", ref="main")
    assert not isinstance(f, list)
    assert f.decoded_content == FILES["deploy/k8s/web.yaml"]
    assert f.sha == blob_sha(FILES["deploy/k8s/web.yaml"])
    listing = repo.get_contents("deploy")
    assert isinstance(listing, list)
    assert sorted((c.name, c.type) for c in listing) == [("compose.yaml", "file"), ("k8s", "dir")]
    root = repo.get_contents("")
    assert isinstance(root, list) and {c.path for c in root} >= {"Dockerfile", "deploy"}
    with pytest.raises(github.UnknownObjectException):
        repo.get_contents("nope.txt")


# --------------------------------------------------------------------------- listing


def test_organisation_repositories_come_in_pages_of_30_with_link_headers(fake: GitHubFake) -> None:
    for i in range(74):
        fake.create_repo("acme", f"svc-{i:02d}", {"Dockerfile": b"FROM scratch\n"}, archived=i == 3)
    fake.reset_calls()
    gh = client(fake)
    org = gh.get_organization("acme")
    names = [r.full_name for r in org.get_repos()]
    assert len(names) == 75 == len(set(names))
    pages = [c for c in fake.calls if c.path == "/orgs/acme/repos"]
    assert len(pages) == 3  # 30 + 30 + 15, GitHub's default page size
    assert [c.status for c in pages] == [200, 200, 200]
    assert sum(r.archived for r in org.get_repos()) == 1

    status, headers, body = raw(fake, "GET", "/orgs/acme/repos?per_page=10&page=2")
    assert status == 200 and isinstance(body, list) and len(body) == 10
    link = headers["Link"]
    assert 'rel="next"' in link and 'rel="last"' in link and 'rel="prev"' in link
    assert "page=8" in link  # last page of 75 by 10
    assert gh.get_organization("acme").get_repos().totalCount == 75


def test_a_users_public_repositories_and_every_page_of_pull_requests_newest_first(
    fake: GitHubFake
) -> None:
    fake.create_repo("alice", "a", {"x": b"1"})
    fake.create_repo("alice", "b", {"x": b"1"}, private=True)
    gh = client(fake)
    assert [r.name for r in gh.get_user("alice").get_repos()] == ["a"]
    for i in range(35):
        fake.commit_files("acme", "web", f"b{i}", {f"f{i}": b"x"}, "x")
    repo = gh.get_repo("acme/web")
    for i in range(35):
        repo.create_pull(base="main", head=f"b{i}", title=f"t{i}")
    numbers = [p.number for p in repo.get_pulls(state="all")]
    assert numbers == list(range(35, 0, -1))  # newest first, like GitHub


# --------------------------------------------------------------------------- HTTP behaviour


def test_conditional_request_answers_304_for_free(fake: GitHubFake) -> None:
    gh = client(fake)
    repo = gh.get_repo("acme/web")
    before = fake.rate_limit_state().remaining
    assert repo.update() is False  # If-None-Match with the ETag: 304
    assert fake.calls[-1] == Call("GET", "/repos/acme/web", 304)
    assert fake.rate_limit_state().remaining == before
    fake.repo("acme", "web").topics.append("new")
    assert repo.update() is True
    assert fake.rate_limit_state().remaining == before - 1


def test_each_call_counts_against_the_primary_rate_limit_and_an_exhausted_one_is_403(
    fake: GitHubFake
) -> None:
    status, h1, _ = raw(fake, "GET", "/repos/acme/web")
    _, h2, _ = raw(fake, "GET", "/repos/acme/web")
    assert status == 200
    assert h1["X-RateLimit-Limit"] == "5000" and h1["X-RateLimit-Resource"] == "core"
    assert int(h2["X-RateLimit-Remaining"]) == int(h1["X-RateLimit-Remaining"]) - 1
    assert int(h2["X-RateLimit-Used"]) == int(h1["X-RateLimit-Used"]) + 1
    assert int(h1["X-RateLimit-Reset"]) > time.time()
    assert h1["ETag"].startswith('W/"')
    status, _, _ = raw(fake, "GET", "/repos/acme/web", headers={"If-None-Match": h1["ETag"]})
    assert status == 304
    gh = client(fake)
    remaining, limit = gh.rate_limiting
    assert limit == 5000 and remaining < 5000
    fake.set_rate_limit_remaining(0)
    status, _, body = raw(fake, "GET", "/repos/acme/web")
    assert status == 403 and isinstance(body, dict)
    assert body["message"].startswith("API rate limit exceeded")


def test_secondary_rate_limit_raises_without_retry(fake: GitHubFake) -> None:
    fake.inject_secondary_rate_limit(times=1, retry_after=7, method="POST")
    repo = client(fake).get_repo("acme/web")
    with pytest.raises(github.RateLimitExceededException) as exc:
        repo.create_git_blob("hello", "utf-8")
    assert exc.value.status == 403
    assert exc.value.headers is not None and exc.value.headers.get("retry-after") == "7"
    assert fake.calls[-1] == Call("POST", "/repos/acme/web/git/blobs", 403)
    # only one request was affected
    assert repo.create_git_blob("hello", "utf-8").sha == blob_sha(b"hello")


def test_secondary_rate_limit_retried_by_pygithub(fake: GitHubFake) -> None:
    retry = GithubRetry(total=3, secondary_rate_wait=1, backoff_factor=0)
    repo = client(fake, retry=retry).get_repo("acme/web")
    fake.inject_secondary_rate_limit(times=1, retry_after=1, method="POST")
    fake.reset_calls()
    started = time.monotonic()
    blob = repo.create_git_blob("hello", "utf-8")
    assert time.monotonic() - started >= 0.9  # PyGithub waited for Retry-After
    assert blob.sha == blob_sha(b"hello")
    assert [c.status for c in fake.calls] == [403, 201]


def test_calls_without_a_valid_token_are_401_and_unknown_routes_404_and_all_are_recorded(
    fake: GitHubFake
) -> None:
    req = urllib.request.Request(fake.url + "/repos/acme/web")
    with pytest.raises(urllib.error.HTTPError) as exc:
        urllib.request.urlopen(req, timeout=10)
    assert exc.value.code == 401
    with pytest.raises(github.BadCredentialsException):
        client(fake, token="wrong").get_repo("acme/web")
    status, _, body = raw(fake, "GET", "/repos/acme/web/no/such/thing")
    assert status == 404 and isinstance(body, dict)
    assert body["message"] == "Not Found" and "documentation_url" in body
    assert fake.calls[-1] == Call("GET", "/repos/acme/web/no/such/thing", 404)
    assert fake.calls[0].status == 401


def test_labels_assignees_and_state_go_through_the_issue_and_the_author_cannot_review(
    fake: GitHubFake
) -> None:
    fake.commit_files("acme", "web", "pinbot/i", {"Dockerfile": b"y\n"}, "y")
    gh = client(fake)
    repo = gh.get_repo("acme/web")
    pr = repo.create_pull(base="main", head="pinbot/i", title="i", draft=True)
    issue = repo.get_issue(pr.number)
    assert issue.pull_request is not None
    issue.edit(assignees=["alice"], labels=["a", "b"])
    issue.set_labels("c")
    assert [lb.name for lb in repo.get_pull(pr.number).labels] == ["c"]
    issue.edit(state="closed")
    assert repo.get_pull(pr.number).state == "closed"
    with pytest.raises(GithubException) as exc:
        pr.create_review_request(reviewers=[fake.user.login])
    assert exc.value.status == 422


def test_an_app_installation_token_covers_its_repositories_and_a_foreign_key_is_refused(
    fake: GitHubFake
) -> None:
    rsa = pytest.importorskip("cryptography.hazmat.primitives.asymmetric.rsa")
    serialization = pytest.importorskip("cryptography.hazmat.primitives.serialization")
    pytest.importorskip("jwt")
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
    fake.create_repo("acme", "api", {"x": b"1"})
    fake.create_repo("alice", "private", {"x": b"1"})
    iid = fake.create_installation(4242, "acme")
    app_auth = Auth.AppAuth(4242, private_pem)
    gh = github.Github(
        base_url=fake.url,
        auth=app_auth.get_installation_auth(iid),
        seconds_between_requests=0,
        seconds_between_writes=0,
        retry=None,
    )
    repo = gh.get_repo("acme/web")
    assert repo.full_name == "acme/web"
    with pytest.raises(github.UnknownObjectException):
        gh.get_repo("alice/private")  # not covered by the installation
    integration = github.GithubIntegration(auth=app_auth, base_url=fake.url)
    installation = integration.get_repo_installation("acme", "web")
    assert installation.id == iid
    names = sorted(r.full_name for r in installation.get_repos())
    assert names == ["acme/api", "acme/web"]
    assert any(c.path == f"/app/installations/{iid}/access_tokens" for c in fake.calls)

    # a JWT signed by another key is refused
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    other_pem = other.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    bad = github.GithubIntegration(auth=Auth.AppAuth(4242, other_pem), base_url=fake.url)
    with pytest.raises(GithubException) as exc:
        bad.get_access_token(iid)
    assert exc.value.status == 401


def test_the_legacy_refs_route_answers_and_concurrent_clients_read_the_same_tree(
    fake: GitHubFake
) -> None:
    status, _, body = raw(fake, "GET", "/repos/acme/web/git/refs/heads/main")
    assert status == 200 and isinstance(body, dict) and body["ref"] == "refs/heads/main"
    status, _, body = raw(fake, "GET", "/repos/acme/web/git/refs/heads")
    assert status == 200 and isinstance(body, list) and body[0]["ref"] == "refs/heads/main"

    def read(i: int) -> str:
        repo = client(fake).get_repo("acme/web")
        return repo.get_git_tree("main", recursive=True).sha

    with ThreadPoolExecutor(max_workers=8) as pool:
        shas = set(pool.map(read, range(32)))
    assert len(shas) == 1
    assert all(c.status == 200 for c in fake.calls)


# --------------------------------------------------------------------------- standalone


@pytest.mark.integration  # starts its server in the test
def test_runs_standalone_seeding_repositories_from_a_folder(tmp_path: Path) -> None:
    (tmp_path / "acme" / "web" / "deploy").mkdir(parents=True)
    (tmp_path / "acme" / "web" / "Dockerfile").write_bytes(b"FROM nginx:1.27\n")
    (tmp_path / "acme" / "web" / "deploy" / "a.yaml").write_bytes(b"image: redis:7\n")
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.support.github_fake", "--port", "0", "--seed", str(tmp_path)],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline().strip()
        url = first.rsplit(" ", 1)[-1]
        token = proc.stdout.readline().split()[1]
        gh = github.Github(
            base_url=url,
            auth=Auth.Token(token),
            seconds_between_requests=0,
            seconds_between_writes=0,
            retry=None,
        )
        repo = gh.get_repo("acme/web")
        assert repo.get_contents("Dockerfile").decoded_content == b"FROM nginx:1.27\n"  # type: ignore[union-attr]
    finally:
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=10)
    assert proc.returncode == 0
    assert "GET /repos/acme/web" in out
