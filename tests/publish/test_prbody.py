"""The pull request body: title, table, notes, footer and the hidden state block."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pinbot.prbody import (
    GITHUB_MAX_BODY,
    MAX_BODY,
    MAX_EARLIER,
    Move,
    Proposal,
    PullState,
    UnreadableState,
    Update,
    body_length,
    commit_message,
    history,
    moved_comment,
    moves,
    next_state,
    parse_state,
    read_state,
    render,
    replace_state,
    state_block,
    table,
    title,
)

A = "sha256:" + "3f1c" * 16
B = "sha256:" + "9ab0" * 16
C = "sha256:" + "77de" * 16
D = "sha256:" + "c410" * 16

NGINX = Update("deploy/web.yaml", 14, "nginx", "1.27", A, B)
API = Update("Dockerfile", 3, "ghcr.io/acme/api", "2.3", C, D)
PIN = Update("Dockerfile", 1, "redis", "7", None, A)


@pytest.mark.parametrize(
    ("updates", "expected"),
    [
        ([NGINX, API], "Update image digests: nginx 1.27, ghcr.io/acme/api 2.3"),
        ([PIN], "Pin image digests: redis 7"),
        ([PIN, NGINX], "Pin and update image digests: redis 7, nginx 1.27"),
        ([NGINX, NGINX], "Update image digests: nginx 1.27"),
        (
            [Update("f", i, f"img{i}", "1", A, B) for i in range(6)],
            "Update image digests: img0 1, img1 1, img2 1, img3 1 and 2 more",
        ),
        ([Update("f", 1, "busybox", None, None, A)], "Pin image digests: busybox"),
    ],
)
def test_the_title_says_pin_or_update_and_names_up_to_four_images(
    updates: list[Update], expected: str
) -> None:
    assert title(updates) == expected


@pytest.mark.parametrize(
    ("prefix", "expected"),
    [
        ("", "Update image digests: nginx 1.27"),
        ("   ", "Update image digests: nginx 1.27"),
        ("chore(deps): ", "chore(deps): update image digests: nginx 1.27"),
        ("chore(deps):", "chore(deps): update image digests: nginx 1.27"),
        ("[Deps] ", "[Deps] Update image digests: nginx 1.27"),
        ("Deps:", "Deps: Update image digests: nginx 1.27"),
        ("⬆️", "⬆️ Update image digests: nginx 1.27"),
        ("fix(images)!: ", "fix(images)!: update image digests: nginx 1.27"),
    ],
)
def test_a_title_prefix_is_spaced_and_a_conventional_commit_prefix_lowercases_the_title(
    prefix: str, expected: str
) -> None:
    assert title([NGINX], prefix) == expected


def test_commit_message_subject_then_aligned_updates_with_short_digests() -> None:
    untagged = Update("k8s/jobs.yaml", 7, "busybox", None, None, C)
    message = commit_message([NGINX, API, PIN, untagged], "chore(deps): ")
    assert message.splitlines() == [
        "chore(deps): pin and update image digests: nginx 1.27, ghcr.io/acme/api 2.3, redis 7, "
        "busybox",
        "",
        "Dockerfile:1        redis:7               unpinned → sha256:3f1c3f1c3f1c",
        "Dockerfile:3        ghcr.io/acme/api:2.3  sha256:77de77de77de → sha256:c410c410c410",
        "deploy/web.yaml:14  nginx:1.27            sha256:3f1c3f1c3f1c → sha256:9ab09ab09ab0",
        "k8s/jobs.yaml:7     busybox               unpinned → sha256:77de77de77de",
        "",
        "pinbot resolved each tag to the digest its registry serves now and",
        "verified the manifest bytes.",
    ]
    assert message.endswith("bytes.\n")
    assert "pinbot:state" not in message and A not in message


def test_table_rows_are_in_file_and_line_order_with_short_digests() -> None:
    assert table([NGINX, API, PIN]).splitlines() == [
        "| File | Image | Tag | Digest |",
        "|---|---|---|---|",
        "| `Dockerfile:1` | `redis` | `7` | pinned to `sha256:3f1c3f1c3f1c` |",
        "| `Dockerfile:3` | `ghcr.io/acme/api` | `2.3` | `sha256:77de77de77de` → `sha256:c410c410c410` |",
        "| `deploy/web.yaml:14` | `nginx` | `1.27` | `sha256:3f1c3f1c3f1c` → `sha256:9ab09ab09ab0` |",
    ]


def test_table_escapes_pipes_in_paths() -> None:
    row = table([Update("a|b.yaml", 2, "nginx", "1", A, B)]).splitlines()[2]
    assert row.startswith("| `a\\|b.yaml:2` |")


def test_render_has_summary_table_notes_footer_and_state_last() -> None:
    state = PullState(
        updates=(NGINX, API), base="b" * 40, commit="c" * 40, blobs={"Dockerfile": "d" * 40}
    )
    body = render([NGINX, API], state, ["<details><summary>nginx</summary>\n\n- x\n\n</details>\n"])
    assert (
        body.index("| File |")
        < body.index("### What changed")
        < body.index("Close this pull request")
    )
    assert body.rstrip().endswith("-->")
    assert "2 digests moved" in body
    assert parse_state(body) == state


def test_a_first_pin_says_why_pinning_matters() -> None:
    body = render([PIN], PullState(updates=(PIN,)))
    assert "1 reference pinned" in body and "a digest cannot" in body


def test_huge_bodies_stay_under_githubs_limit_and_keep_the_state() -> None:
    updates = [
        Update(
            f"deploy/service-{i:05d}/values.yaml",
            i + 1,
            f"registry.example.com/team/image-{i}",
            "1.0",
            A,
            B,
        )
        for i in range(150)
    ]
    state = PullState(updates=tuple(updates))
    body = render(updates, state, ["<details>note</details>\n" * 10])
    # The visible part is trimmed to fit; the hidden block is kept whole (see the report's
    # note on very large states).
    assert len(body) <= MAX_BODY
    assert "more |" in body
    assert parse_state(body) == state


def test_the_body_is_measured_as_github_counts_it_astral_characters_twice() -> None:
    assert body_length("abc") == 3
    assert body_length("é…日") == 3
    assert body_length("\U0001f308a") == 3
    assert MAX_BODY < GITHUB_MAX_BODY


def utf16_units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _note(image: str, size: int) -> str:
    """A note as `describe` makes one, its version label `size` astral characters long."""
    from pinbot.notes import describe
    from pinbot.registry.manifest import ImageMetadata

    version = "\U0001f308" * size
    meta = ImageMetadata(digest=B, media_type="x", labels={"org.opencontainers.image.version": version})
    return describe(image, "1", None, meta)


def test_notes_that_would_pass_the_limit_in_utf16_are_left_out_whole_from_the_last() -> None:
    updates = [Update("Dockerfile", i + 1, f"img{i}", "1", None, A) for i in range(100)]
    # Each note is about 320 code points but about 510 UTF-16 code units: all of them fit
    # when counted in code points, and GitHub would refuse that body.
    notes = [_note(f"img{i}", 190) for i in range(100)]
    state = PullState(updates=tuple(updates), base="b" * 40, commit="c" * 40)
    everything = render(updates, state, notes[:0]) + "".join(notes)
    assert len(everything) <= MAX_BODY < utf16_units(everything)
    body = render(updates, state, notes)
    assert utf16_units(body) <= MAX_BODY
    kept = [note for note in notes if note in body]
    assert 0 < len(kept) < len(notes)
    assert kept == notes[: len(kept)]  # whole notes, in order, cut from the last
    assert f"and {len(notes) - len(kept)} more notes, left out" in body
    assert body.count("<details>") == body.count("</details>") == len(kept)
    assert body.count("`") % 2 == 0
    assert "| `Dockerfile:100` |" in body  # every table row is kept before any note
    assert read_state(body) == state


@pytest.mark.parametrize("body", [None, "", "plain text", "pinbot:state is only a word here"])
def test_a_body_without_a_block_has_no_state(body: str | None) -> None:
    assert read_state(body) is None and parse_state(body) is None


WHOLE = state_block(PullState(updates=(NGINX,), base="b" * 40, commit="c" * 40))


@pytest.mark.parametrize(
    "body",
    [
        "<!-- pinbot:state {not json} -->",
        "<!-- pinbot:state [1, 2] -->",
        "<!-- pinbot:state {} -->",
        '<!-- pinbot:state {"version": 3, "base": "", "commit": ""} -->',
        '<!-- pinbot:state {"version": true, "base": "", "commit": "", "blobs": {}, "updates": []} -->',
        '<!-- pinbot:state {"version": 1, "updates": "no"} -->',
        '<!-- pinbot:state {"version": 1, "base": "", "commit": "", "blobs": {}, "updates": [{"file": 3}]} -->',
        WHOLE.replace('"line":14', '"line":true'),
        WHOLE.replace('"line":14', '"line":0'),
        WHOLE.replace('"new":"sha256:9ab0', '"new":"sha256:9ab0 '),
        WHOLE.replace('"tag":"1.27"', '"tag":"1.27 `x`"'),
        WHOLE.replace('"image":"nginx"', '"image":"nginx:1"'),
        WHOLE.replace('"base":"bbbb', '"base":"b b'),
        WHOLE.replace('"blobs":{}', '"blobs":{"Dockerfile":5}'),
        WHOLE.replace('"version":1', '"version":1,"extra":1'),
        WHOLE.replace('{"base"', '{"closed":"<b>","base"'),
        '<!-- pinbot:state {"version":2,"base":"","commit":"","fingerprint":"x","answers":[]} -->',
        f'<!-- pinbot:state {{"version":2,"base":"","commit":"","fingerprint":"{A}","answers":"no"}} -->',
        f'<!-- pinbot:state {{"version":2,"base":"","commit":"","fingerprint":"{A}","answers":[1]}} -->',
        f"{WHOLE}\n\n{WHOLE}",  # two blocks: which one is pinbot's?
        f"> {WHOLE}\n\n{WHOLE}",  # a human quoting an old body
        f"{WHOLE}\n\nwords written after the block",
        f"text{WHOLE}",  # not at the start of a line
        WHOLE[:-4],  # never closed
        f'1.0 <!-- pinbot:state {{"version":1\n\n{WHOLE}',  # the label attack, unescaped
    ],
)
def test_a_block_that_cannot_be_trusted_is_unreadable_not_absent(body: str) -> None:
    assert isinstance(read_state(body), UnreadableState)
    assert parse_state(body) is None
    # Writing the state again leaves exactly one trusted block, last.
    again = replace_state(body, PullState(updates=(API,)))
    assert read_state(again) == PullState(updates=(API,))


def test_the_state_reads_with_text_edited_above_it_and_optional_fields_absent() -> None:
    record = {"version": 1, "base": "", "commit": "", "blobs": {}, "updates": [NGINX.to_json()]}
    body = f"Edited by a human.\n\n<!-- pinbot:state {json.dumps(record)} -->\n\n"
    state = read_state(body)
    assert isinstance(state, PullState)
    assert state.updates == (NGINX,) and state.blobs == {} and state.base == ""
    # A body edited in GitHub's web page comes back with CRLF line ends.
    assert read_state(body.replace("\n", "\r\n")) == state


def test_closed_marker_round_trips() -> None:
    state = PullState(updates=(NGINX,), closed="on-base")
    assert parse_state(state_block(state)) == state


text = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=30)
digests = st.binary(min_size=32, max_size=32).map(lambda b: "sha256:" + b.hex())
git_ids = st.binary(min_size=20, max_size=20).map(bytes.hex)
images = st.tuples(
    st.sampled_from(["", "ghcr.io/", "127.0.0.1:5000/", "registry.example.com/"]),
    st.lists(st.sampled_from(["nginx", "acme", "a1", "b-c", "x_y"]), min_size=1, max_size=3),
).map(lambda parts: parts[0] + "/".join(parts[1]))
tags = st.tuples(
    st.sampled_from("aZ09_"), st.text(alphabet="aZ09_.-", max_size=10)
).map("".join)


@pytest.mark.slow
@given(
    st.lists(
        st.builds(
            Update,
            file=text,
            line=st.integers(1, 10**6),
            image=images,
            tag=st.none() | tags,
            old=st.none() | digests,
            new=digests,
        ),
        max_size=5,
    ),
    st.dictionaries(text, git_ids, max_size=3),
)
def test_any_state_round_trips_through_the_hidden_block(
    updates: list[Update], blobs: dict[str, str]
) -> None:
    state = PullState(updates=tuple(updates), base="b" * 40, commit="c" * 40, blobs=blobs)
    block = state_block(state)
    assert block.count("-->") == 1 and block.count("<!--") == 1  # no value can end it early
    assert read_state(f"before\n{block}\n") == state


@pytest.mark.slow
def test_a_pull_request_with_thousands_of_updates_compacts_its_state_and_still_round_trips() -> (
    None
):
    updates = [
        Update(
            f"deploy/service-{i:05d}/values.yaml",
            10 + i % 7,
            f"registry.example.com/team/image-{i % 40}",
            "1.0",
            A if i % 3 else None,
            B,
        )
        for i in range(3000)
    ]
    blobs = {u.file: f"{hash(u.file) & 0xFFFFFFFF:040x}" for u in updates}
    state = PullState(updates=tuple(updates), base="b" * 40, commit="c" * 40, blobs=blobs)
    assert len(state_block(state)) > MAX_BODY  # the whole record cannot fit

    body = render(updates, state, ["<details>note</details>\n"])
    assert len(body) <= MAX_BODY
    assert "| `deploy/service-00000/values.yaml:10` |" in body  # the table keeps what fits
    assert "more |" in body

    parsed = parse_state(body)
    assert parsed is not None and parsed.is_compact
    assert parsed == state.compact()
    assert parsed.base == state.base and parsed.commit == state.commit
    # What reconciling asks of a state is answered as by the whole one.
    assert parsed.answer_ids() == state.answer_ids()
    assert parsed.proposes(reversed(updates), blobs)
    assert not parsed.proposes(updates[1:], blobs)
    assert not parsed.proposes(updates, {**blobs, "deploy/service-00000/values.yaml": "0" * 40})
    moved = [Update(u.file, u.line + 1, u.image, u.tag, u.old, u.new) for u in updates]
    assert not parsed.proposes(moved, blobs)

    # Closing marks the compact state and stays under the limit.
    closed = replace_state(body, replace(parsed, closed="on-base"))
    assert len(closed) <= MAX_BODY
    reparsed = parse_state(closed)
    assert reparsed is not None and reparsed.closed == "on-base"
    assert reparsed.answer_ids() == state.answer_ids()


def test_a_state_that_fits_is_kept_whole_and_closing_it_keeps_the_body_text() -> None:
    state = PullState(updates=(NGINX,), commit="c" * 40)
    body = render([NGINX], state)
    assert parse_state(body) == state and not state.is_compact
    closed = replace_state(body, replace(state, closed="nothing-left"))
    assert closed.replace(state_block(replace(state, closed="nothing-left")), "") == body.replace(
        state_block(state), ""
    )
    assert replace_state("hand-written body", state).endswith(state_block(state) + "\n")


def test_docstring_examples_hold() -> None:
    import doctest

    import pinbot.prbody

    assert doctest.testmod(pinbot.prbody).failed == 0


# --- what moved since the pull request was last written -----------------------------------

T1, T2, T3 = "2026-11-20T08:00:00Z", "2026-11-22T09:15:00Z", "2026-11-25T10:30:00Z"
E = "sha256:" + "e5e5" * 16
REDIS_A = Update("Dockerfile", 1, "redis", "7", None, A)
REDIS_B = replace(REDIS_A, new=B)
REDIS_E = replace(REDIS_A, new=E)


def _state(previous: PullState | None, updates: list[Update], now: str) -> PullState:
    return next_state(previous, updates, base="b" * 40, commit="c" * 40, blobs={}, now=now)


def test_moves_name_each_image_tag_whose_digest_changed_and_nothing_else() -> None:
    previous = _state(None, [REDIS_A, NGINX], T1)
    added = Update("x.yaml", 2, "busybox", "1", None, C)
    assert moves(previous, [REDIS_B, replace(REDIS_B, file="compose.yaml"), NGINX, added]) == [
        Move("redis", "7", A, B)
    ]
    assert moves(previous, [REDIS_A, NGINX]) == []  # a rebuild on a new base
    assert moves(previous, [NGINX]) == []  # a reference gone from the base
    assert moves(previous.compact(), [REDIS_B]) == []  # a compact state has no digests


def test_next_state_remembers_earlier_proposals_and_when_each_digest_was_first_proposed() -> None:
    opened = _state(None, [REDIS_A, NGINX], T1)
    assert opened.written == T1 and not opened.proposed and not opened.earlier

    moved = _state(opened, [REDIS_B, NGINX], T2)
    assert moved.earlier == (Proposal("redis", "7", A, T1),)
    assert moved.proposed_at("nginx", "1.27", B) == T1  # kept from the opening
    assert moved.proposed_at("redis", "7", B) == T2

    rebuilt = _state(moved, [REDIS_B, NGINX], T3)
    assert rebuilt.earlier == moved.earlier
    assert rebuilt.proposed_at("redis", "7", B) == T2

    again = _state(rebuilt, [REDIS_E], T3)
    assert again.earlier == (Proposal("redis", "7", A, T1), Proposal("redis", "7", B, T2))
    assert history(again) == {("redis", "7"): list(again.earlier)}

    # Only the newest few are kept; a fresh pull request starts with none.
    state = again
    for i in range(MAX_EARLIER + 2):
        state = _state(state, [replace(REDIS_A, new=f"sha256:{i:064x}")], T3)
    assert len(state.earlier) == MAX_EARLIER
    assert _state(None, [REDIS_E], T3).earlier == ()
    assert _state(again.compact(), [REDIS_A], T3).earlier == ()


def test_the_memory_round_trips_and_old_or_garbled_records_are_forgotten() -> None:
    opened = _state(None, [REDIS_A, NGINX], T1)
    state = _state(_state(opened, [REDIS_B, NGINX], T2), [REDIS_B, NGINX], T3)
    assert state.proposed and state.earlier
    body = render([REDIS_B, NGINX], state)
    assert parse_state(body) == state
    compact = state.compact()
    assert compact.written == T3 and parse_state(state_block(compact)) == compact

    data = state.to_json()
    for garbled in ({"earlier": [{"image": 1}]}, {"proposed": ["x"]}, {"written": 5}):
        body = f"<!-- pinbot:state {json.dumps({**data, **garbled})} -->"
        assert isinstance(read_state(body), UnreadableState)
    # A state written before this memory existed still reads, and moves are still seen.
    old = {k: v for k, v in data.items() if k not in ("earlier", "proposed", "written")}
    parsed = parse_state(f"<!-- pinbot:state {json.dumps(old)} -->")
    assert parsed is not None and moves(parsed, [REDIS_E, NGINX]) == [Move("redis", "7", B, E)]


def test_the_comment_has_one_short_line_per_image_tag_that_moved() -> None:
    moved = [Move("nginx", "1.27", A, B), Move("busybox", None, C, D)]
    assert moved_comment(moved, T2).splitlines() == [
        "Updated: `nginx:1.27` moved again since 2026-11-22 09:15 UTC: "
        "`sha256:3f1c3f1c3f1c` → `sha256:9ab09ab09ab0`",
        "Updated: `busybox` moved again since 2026-11-22 09:15 UTC: "
        "`sha256:77de77de77de` → `sha256:c410c410c410`",
    ]
    assert "since this pull request was last updated:" in moved_comment(moved, "")


def test_a_comment_naming_thousands_of_moved_tags_stays_under_the_limit() -> None:
    moved = [Move(f"registry.example.com/team/image-{i}", "1.0", A, B) for i in range(2000)]
    comment = moved_comment(moved, T2)
    assert utf16_units(comment) <= MAX_BODY
    lines = comment.splitlines()
    assert lines[-1] == f"… and {2000 - len(lines) + 1} more moved."
    assert lines[0] == moved_comment(moved[:1], T2)
