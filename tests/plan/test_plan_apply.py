"""Plan and apply on small files: what is written, what is refused, and that nothing else moves."""

from __future__ import annotations

import dataclasses

import pytest

from pinbot.apply import ApplyError, apply_edits
from pinbot.config import PinConfig
from pinbot.plan import Action, Lookup, NoticeKind, plan
from pinbot.scanners import scan_bytes

NEW = "sha256:" + "a" * 64
OLD = "sha256:" + "b" * 64


def run(path: str, data: bytes, lookups: dict[str, Lookup], **kw: object) -> tuple[bytes, object]:
    occurrences = scan_bytes(path, data).occurrences
    result = plan(occurrences, lookups, **kw)  # type: ignore[arg-type]
    change = apply_edits(path, data, result.edits)
    return change.updated, result


def test_dockerfile_keeps_bom_crlf_comments_and_missing_final_newline() -> None:
    data = (
        "\ufeff# syntax-free comment\r\n"
        "FROM --platform=$BUILDPLATFORM golang:1.22 AS build  # builder\r\n"
        "RUN go build ./...\r\n"
        "FROM gcr.io/distroless/static:nonroot\r\n"
        "COPY --from=build /out /app"
    ).encode()
    lookups = {
        "docker.io/library/golang:1.22": Lookup(NEW, verified=True),
        "gcr.io/distroless/static:nonroot": Lookup(OLD, verified=True),
    }
    updated, result = run("Dockerfile", data, lookups)
    assert updated == (
        "\ufeff# syntax-free comment\r\n"
        f"FROM --platform=$BUILDPLATFORM golang:1.22@{NEW} AS build  # builder\r\n"
        "RUN go build ./...\r\n"
        f"FROM gcr.io/distroless/static:nonroot@{OLD}\r\n"
        "COPY --from=build /out /app"
    ).encode()
    assert [e.action for e in result.edits] == [Action.PIN, Action.PIN]  # type: ignore[attr-defined]


def test_second_pass_is_a_no_op_and_a_moved_tag_bumps() -> None:
    data = b"FROM nginx:1.27\n"
    lookups = {"docker.io/library/nginx:1.27": Lookup(OLD, verified=True)}
    once, _ = run("Dockerfile", data, lookups)
    twice, result = run("Dockerfile", once, lookups)
    assert twice == once == f"FROM nginx:1.27@{OLD}\n".encode()
    assert result.edits == [] and result.unchanged == 1  # type: ignore[attr-defined]
    bumped, result = run("Dockerfile", once, {"docker.io/library/nginx:1.27": Lookup(NEW, verified=True)})
    assert bumped == f"FROM nginx:1.27@{NEW}\n".encode()
    (edit,) = result.edits  # type: ignore[attr-defined]
    assert (edit.action, edit.old_digest, edit.new_digest) == (Action.BUMP, OLD, NEW)


def test_a_reference_keeps_its_spelling_of_registry_and_library() -> None:
    data = b"FROM docker.io/library/nginx:1.27\nFROM index.docker.io/library/redis:7\n"
    lookups = {
        "docker.io/library/nginx:1.27": Lookup(NEW, verified=True),
        "docker.io/library/redis:7": Lookup(OLD, verified=True),
    }
    updated, _ = run("Dockerfile", data, lookups)
    assert updated == (
        f"FROM docker.io/library/nginx:1.27@{NEW}\nFROM index.docker.io/library/redis:7@{OLD}\n"
    ).encode()


def test_digest_style_replaces_the_tag_with_the_digest() -> None:
    updated, _ = run(
        "Dockerfile",
        b"FROM nginx:1.27\n",
        {"docker.io/library/nginx:1.27": Lookup(NEW, verified=True)},
        pin=PinConfig(style="digest"),
    )
    assert updated == f"FROM nginx@{NEW}\n".encode()


def test_untagged_is_reported_unless_configured() -> None:
    lookups = {"docker.io/library/alpine:latest": Lookup(NEW, verified=True)}
    updated, result = run("Dockerfile", b"FROM alpine\n", lookups)
    assert updated == b"FROM alpine\n"
    assert [n.kind for n in result.notices] == [NoticeKind.UNTAGGED]  # type: ignore[attr-defined]
    updated, _ = run("Dockerfile", b"FROM alpine\n", lookups, pin=PinConfig(pin_untagged=True))
    assert updated == f"FROM alpine:latest@{NEW}\n".encode()


def test_unverified_or_failed_lookups_write_nothing() -> None:
    data = b"FROM nginx:1.27\nFROM redis:7\n"
    lookups = {
        "docker.io/library/nginx:1.27": Lookup(NEW, verified=False),
        "docker.io/library/redis:7": Lookup(error="registry-1.docker.io: tag not found"),
    }
    updated, result = run("Dockerfile", data, lookups)
    assert updated == data
    kinds = sorted(n.kind.value for n in result.notices)  # type: ignore[attr-defined]
    assert kinds == ["lookup-failed", "not-verified"]
    assert "tag not found" in str(result.notices[1])  # type: ignore[attr-defined]


def test_an_edit_that_would_change_the_wrong_thing_is_refused() -> None:
    data = b"FROM nginx:1.27\nFROM redis:7\n"
    occurrences = scan_bytes("Dockerfile", data).occurrences
    (edit, _other) = plan(
        occurrences,
        {
            "docker.io/library/nginx:1.27": Lookup(NEW, verified=True),
            "docker.io/library/redis:7": Lookup(NEW, verified=True),
        },
    ).edits
    tampered = dataclasses.replace(edit, replacement=f"nginx:1.27@{NEW}\nFROM evil:1")
    with pytest.raises(ApplyError, match=r"Dockerfile: .*file left unchanged"):
        apply_edits("Dockerfile", data, [tampered])
    overlapping = dataclasses.replace(edit, end=edit.end + 3)
    with pytest.raises(ApplyError, match="overlapping"):
        apply_edits("Dockerfile", data, [edit, overlapping])


def test_templated_and_ignored_references_are_never_planned() -> None:
    data = b"ARG TAG\nFROM nginx:${TAG}\n# pinbot: ignore\nFROM redis:7\n"
    occurrences = scan_bytes("Dockerfile", data).occurrences
    assert [o.status.value for o in occurrences] == ["templated", "ignored"]
    result = plan(occurrences, {"docker.io/library/redis:7": Lookup(NEW, verified=True)})
    assert result.edits == []


def test_edits_sharing_one_place_write_it_once() -> None:
    data = b"FROM nginx:1.27\n"
    (edit,) = plan(
        scan_bytes("Dockerfile", data).occurrences,
        {"docker.io/library/nginx:1.27": Lookup(NEW, verified=True)},
    ).edits
    change = apply_edits("Dockerfile", data, [edit, dataclasses.replace(edit)])
    assert change.updated == f"FROM nginx:1.27@{NEW}\n".encode()
    assert len(change.edits) == 2  # both occurrences are reported in the change
    other = dataclasses.replace(edit, replacement=f"nginx:1.27@{OLD}")
    with pytest.raises(ApplyError, match="overlapping"):
        apply_edits("Dockerfile", data, [edit, other])


def test_an_arg_default_shared_with_an_ignored_from_is_not_written() -> None:
    data = (
        b"ARG TAG=1.27\n"
        b"FROM nginx:${TAG} AS one\n"
        b"# pinbot: ignore\n"
        b"FROM nginx:${TAG} AS two\n"
    )
    lookups = {"docker.io/library/nginx:1.27": Lookup(NEW, verified=True)}
    updated, result = run("Dockerfile", data, lookups)
    assert updated == data
    (notice,) = [n for n in result.notices if n.occurrence.line == 2]  # type: ignore[attr-defined]
    assert "line 4 reads too" in notice.message
    # Without the ignore comment both FROM lines share one write.
    plain = data.replace(b"# pinbot: ignore\n", b"")
    updated, result = run("Dockerfile", plain, lookups)
    assert updated.startswith(f"ARG TAG=1.27@{NEW}\n".encode())
    assert len(result.edits) == 2  # type: ignore[attr-defined]
