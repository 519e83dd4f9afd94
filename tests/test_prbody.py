"""The pull request body: title, table, notes, footer and the hidden state block."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pinbot.prbody import (
    MAX_BODY,
    PullState,
    Update,
    parse_state,
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
def test_title(updates: list[Update], expected: str) -> None:
    assert title(updates) == expected


def test_table_rows_are_in_file_and_line_order_with_short_digests() -> None:
    assert table([NGINX, API, PIN]).splitlines() == [
        "| File | Image | Tag | Digest |",
        "|---|---|---|---|",
        "| Dockerfile:1 | redis | 7 | pinned to `sha256:3f1c3f1c3f1c` |",
        "| Dockerfile:3 | ghcr.io/acme/api | 2.3 | `sha256:77de77de77de` → `sha256:c410c410c410` |",
        "| deploy/web.yaml:14 | nginx | 1.27 | `sha256:3f1c3f1c3f1c` → `sha256:9ab09ab09ab0` |",
    ]


def test_table_escapes_pipes_in_paths() -> None:
    row = table([Update("a|b.yaml", 2, "nginx", "1", A, B)]).splitlines()[2]
    assert row.startswith("| a\\|b.yaml:2 |")


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
            i,
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


@pytest.mark.parametrize(
    "body",
    [
        None,
        "",
        "plain text",
        "<!-- pinbot:state {not json} -->",
        '<!-- pinbot:state {"updates": [{"file": 3}]} -->',
        '<!-- pinbot:state {"updates": "no"} -->',
        "<!-- pinbot:state [1, 2] -->",
        '<!-- pinbot:state {"updates": [{"file": "a", "line": true, "image": "x", "new": "y"}]} -->',
    ],
)
def test_absent_or_garbled_state_is_none(body: str | None) -> None:
    assert parse_state(body) is None


def test_state_tolerates_missing_optional_fields_and_edits_around_it() -> None:
    body = (
        "Edited by a human.\n\n<!-- pinbot:state "
        + json.dumps({"updates": [NGINX.to_json()], "blobs": {"x": 1}})
        + " -->\n\nMore words."
    )
    state = parse_state(body)
    assert state is not None
    assert state.updates == (NGINX,) and state.blobs == {} and state.base == ""


def test_the_last_block_wins_when_a_human_quotes_an_old_body() -> None:
    old = state_block(PullState(updates=(API,)))
    new = state_block(PullState(updates=(NGINX,)))
    state = parse_state(f"> {old}\n\n{new}")
    assert state is not None and state.updates == (NGINX,)


def test_closed_marker_round_trips() -> None:
    state = PullState(updates=(NGINX,), closed="on-base")
    assert parse_state(state_block(state)) == state


text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=30)


@given(
    st.lists(
        st.builds(
            Update,
            file=text,
            line=st.integers(1, 10**6),
            image=text,
            tag=st.none() | text,
            old=st.none() | text,
            new=text,
        ),
        max_size=5,
    ),
    st.dictionaries(text, text, max_size=3),
)
def test_any_state_round_trips_through_the_hidden_block(
    updates: list[Update], blobs: dict[str, str]
) -> None:
    state = PullState(updates=tuple(updates), base="b", commit="c", blobs=blobs)
    block = state_block(state)
    assert block.count("-->") == 1  # no value can end the comment early
    assert parse_state(f"before\n{block}\nafter") == state


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
    assert "| deploy/service-00000/values.yaml:10 |" in body  # the table keeps what fits
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


def test_compact_states_that_are_garbled_are_none() -> None:
    assert parse_state('<!-- pinbot:state {"fingerprint": "x", "answers": "no"} -->') is None
    assert parse_state('<!-- pinbot:state {"fingerprint": 1, "answers": []} -->') is None
    assert parse_state('<!-- pinbot:state {"fingerprint": "x", "answers": [1]} -->') is None


def test_doctests() -> None:
    import doctest

    import pinbot.prbody

    assert doctest.testmod(pinbot.prbody).failed == 0
