"""Property test: generated Quadlet units with random comments, spacing, quoting, continuations,
repeated keys and line endings. Pinning changes only the references' spans, every reference
holds the pinned digest afterwards, and pinning twice changes nothing."""

from __future__ import annotations

import hashlib

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pinbot.apply import apply_edits, distinct
from pinbot.plan import Lookup, lookup_key, plan
from pinbot.scanners import Status, scan_bytes

names = st.sampled_from(["nginx", "library/alpine", "quay.io/fedora/fedora", "localhost:5000/a/b"])
tags = st.from_regex(r"[a-z0-9][a-z0-9._-]{0,9}", fullmatch=True)
comments = st.sampled_from(["# a comment", "; a comment", "#Image=old:1", "", "   "])
spaces = st.sampled_from(["", " ", "  ", "\t"])


def digest_for(key: str) -> str:
    return "sha256:" + hashlib.sha256(key.encode()).hexdigest()


@st.composite
def units(draw: st.DrawFn) -> tuple[bytes, str]:
    nl = draw(st.sampled_from(["\n", "\r\n"]))
    image = f"{draw(names)}:{draw(tags)}"
    quote = draw(st.sampled_from(["", '"']))
    lines = [draw(comments), "[Unit]", "Description=generated unit", draw(comments), "[Container]"]
    if draw(st.booleans()):
        lines.append(f"Image={draw(names)}:older")  # overridden by the last Image=
    lines.append(draw(comments))
    lines.append(
        f"{draw(spaces)}Image{draw(spaces)}={draw(spaces)}{quote}{image}{quote}{draw(spaces)}"
    )
    if draw(st.booleans()):
        lines += ["Exec=/bin/app \\", draw(comments), f"{draw(spaces)}--flag value"]
    if draw(st.booleans()):
        lines.append(f"Mount=type=image,source={draw(names)}:{draw(tags)},destination=/m")
    lines += ["[Service]", "Restart=always", draw(comments)]
    text = nl.join(lines) + draw(st.sampled_from(["", nl]))
    return text.encode(), image


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(units())
def test_quadlet_pins_only_spans_and_twice_is_a_no_op(case: tuple[bytes, str]) -> None:
    data, image = case
    occurrences = scan_bytes("web.container", data).occurrences
    assert occurrences and all(o.kind == "quadlet" for o in occurrences)
    assert occurrences[0].text == image  # the last Image=, as Podman reads it
    lookups = {
        lookup_key(o.reference): Lookup(digest_for(lookup_key(o.reference)), verified=True)
        for o in occurrences
        if o.reference is not None
    }
    change = apply_edits("web.container", data, plan(occurrences, lookups).edits)
    text, rebuilt, position = data.decode(), [], 0
    for edit in distinct(change.edits):
        rebuilt.append(text[position : edit.start] + edit.replacement)
        position = edit.end
    assert ("".join(rebuilt) + text[position:]).encode() == change.updated
    after = scan_bytes("web.container", change.updated).occurrences
    assert [o.status for o in after] == [Status.PINNED] * len(occurrences)
    again = apply_edits("web.container", change.updated, plan(after, lookups).edits)
    assert again.updated == change.updated
