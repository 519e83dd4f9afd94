"""Property tests: generated Dockerfiles and YAML with random quoting, comments, line endings
and indentation. Pinning changes only the references' spans, and pinning twice is a no-op."""

from __future__ import annotations

import hashlib

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pinbot.apply import apply_edits, distinct
from pinbot.plan import Lookup, lookup_key, plan
from pinbot.scanners import scan_bytes

names = st.sampled_from(
    ["nginx", "redis", "library/alpine", "ghcr.io/acme/api", "localhost:5000/team/app", "quay.io/x/y-z"]
)
tags = st.from_regex(r"[a-z0-9][a-z0-9._-]{0,9}", fullmatch=True)
comments = st.sampled_from(["", "  # note", " # pinned later", "\t# tab"])
newlines = st.sampled_from(["\n", "\r\n"])
quotes = st.sampled_from(["", "'", '"'])


def digest_for(key: str) -> str:
    return "sha256:" + hashlib.sha256(key.encode()).hexdigest()


def pin(path: str, data: bytes) -> tuple[bytes, list[tuple[int, int, str]], int]:
    occurrences = scan_bytes(path, data).occurrences
    lookups = {
        lookup_key(o.reference): Lookup(digest_for(lookup_key(o.reference)), verified=True)
        for o in occurrences
        if o.reference is not None
    }
    edits = plan(occurrences, lookups).edits
    change = apply_edits(path, data, edits)
    spans = [(e.start, e.end, e.replacement) for e in distinct(change.edits)]
    return change.updated, spans, len(occurrences)


def only_spans_changed(original: bytes, updated: bytes, spans: list[tuple[int, int, str]]) -> bool:
    text = original.decode()
    rebuilt, position = [], 0
    for start, end, replacement in spans:
        rebuilt.append(text[position:start])
        rebuilt.append(replacement)
        position = end
    rebuilt.append(text[position:])
    return "".join(rebuilt).encode() == updated


@st.composite
def dockerfiles(draw: st.DrawFn) -> tuple[bytes, int]:
    nl = draw(newlines)
    lines = [draw(st.sampled_from(["", "# syntax-free header", "ARG X=1"]))]
    count = draw(st.integers(1, 4))
    for i in range(count):
        keyword = draw(st.sampled_from(["FROM", "from", "From"]))
        platform = draw(st.sampled_from(["", "--platform=$BUILDPLATFORM ", "--platform=linux/amd64 "]))
        stage = draw(st.sampled_from(["", f" AS s{i}", f" as s{i}"]))
        lines.append(f"{keyword} {platform}{draw(names)}:{draw(tags)}{stage}{draw(comments)}")
        lines.append(draw(st.sampled_from(["RUN true", "RUN echo a \\", "COPY . /src", "# comment"])))
        if lines[-1].endswith("\\"):
            lines.append("    && echo b")
    body = nl.join(lines)
    if draw(st.booleans()):
        body += nl
    if draw(st.booleans()):
        body = "\ufeff" + body
    return body.encode(), count


@st.composite
def compose_files(draw: st.DrawFn) -> tuple[bytes, int]:
    nl = draw(newlines)
    indent = " " * draw(st.sampled_from([2, 4]))
    lines = ["services:" + draw(comments)]
    count = draw(st.integers(1, 4))
    for i in range(count):
        q = draw(quotes)
        lines.append(f"{indent}svc{i}:")
        if draw(st.booleans()):
            lines.append(f"{indent * 2}# service {i}")
        lines.append(f"{indent * 2}image: {q}{draw(names)}:{draw(tags)}{q}{draw(comments)}")
        lines.append(f"{indent * 2}restart: always")
    body = nl.join(lines) + (nl if draw(st.booleans()) else "")
    return body.encode(), count


@st.composite
def deployments(draw: st.DrawFn) -> tuple[bytes, int]:
    nl = draw(newlines)
    indent = " " * draw(st.sampled_from([2, 4]))
    dash = draw(st.sampled_from(["- ", "-   "]))
    count = draw(st.integers(1, 3))
    lines = ["apiVersion: apps/v1", "kind: Deployment", "metadata:", f"{indent}name: app", "spec:",
             f"{indent}template:", f"{indent * 2}spec:", f"{indent * 3}containers:"]
    for i in range(count):
        q = draw(quotes)
        lines.append(f"{indent * 3}{dash}name: c{i}{draw(comments)}")
        pad = " " * len(dash)
        lines.append(f"{indent * 3}{pad}image: {q}{draw(names)}:{draw(tags)}{q}{draw(comments)}")
    if draw(st.booleans()):
        lines += ["---", "apiVersion: v1", "kind: ConfigMap", "data:", f"{indent}image: not-an-image:1"]
    return (nl.join(lines) + nl).encode(), count


SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(dockerfiles())
def test_dockerfile_pins_only_spans_and_twice_is_a_no_op(case: tuple[bytes, int]) -> None:
    data, count = case
    once, spans, found = pin("Dockerfile", data)
    assert found == count
    assert len(spans) == count
    assert only_spans_changed(data, once, spans)
    twice, more, _ = pin("Dockerfile", once)
    assert twice == once and more == []


@SETTINGS
@given(compose_files())
def test_compose_pins_only_spans_and_twice_is_a_no_op(case: tuple[bytes, int]) -> None:
    data, count = case
    once, spans, found = pin("compose.yaml", data)
    assert found == count == len(spans)
    assert only_spans_changed(data, once, spans)
    twice, more, _ = pin("compose.yaml", once)
    assert twice == once and more == []


@SETTINGS
@given(deployments())
def test_kubernetes_pins_only_spans_and_twice_is_a_no_op(case: tuple[bytes, int]) -> None:
    data, count = case
    once, spans, found = pin("deploy/app.yaml", data)
    assert found == count == len(spans)
    assert only_spans_changed(data, once, spans)
    twice, more, _ = pin("deploy/app.yaml", once)
    assert twice == once and more == []
