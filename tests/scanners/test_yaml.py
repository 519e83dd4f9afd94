"""The YAML node layer the scanners share: positions, spans, merges, and the fallback composer."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from pinbot.scanners import ScanError, scan_text
from pinbot.scanners._yaml import (
    compose_documents,
    format_path,
    map_get,
    map_items,
    scalar_span,
    scalar_value,
    walk,
    written_span,
)


def span_text(text: str, key: str) -> str | None:
    (root,), offset = compose_documents(text)
    node = map_get(root, key)
    span = scalar_span(node, text, offset)  # type: ignore[arg-type]
    return None if span is None else text[span[0] : span[1]]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("image: nginx:1.27\n", "nginx:1.27"),
        ("image: 'nginx:1.27'  # c\n", "nginx:1.27"),
        ('image: "nginx:1.27"\r\n', "nginx:1.27"),
        ("\ufeffimage: nginx:1.27\n", "nginx:1.27"),
        ("a: é\nimage: \"日本/x:1\"\n", "日本/x:1"),
        ('image: "nginx\\u003a1"\n', None),  # an escape: the written text is not the value
        ("image: 'it''s'\n", None),
        ("image: |\n  nginx:1.27\n", None),
        ("image: >-\n  nginx:1.27\n", None),
        ("image: nginx\n  :1.27\n", None),  # a multi-line plain scalar
    ],
)
def test_scalar_span_is_the_value_as_written_or_none(text: str, expected: str | None) -> None:
    assert span_text(text, "image") == expected


def test_libyaml_refusals_fall_back_to_the_pure_composer() -> None:
    text = "\ufeffbuild:\n  cache_from: [acme/api:cache]\nimage: acme/api:1\n"
    assert span_text(text, "image") == "acme/api:1"


def test_broken_yaml_raises_with_the_line() -> None:
    with pytest.raises(ScanError) as caught:
        compose_documents("a: 1\nb: [unclosed\nc: 2\n")
    assert caught.value.line is not None and caught.value.line >= 2
    assert "cannot parse YAML" in str(caught.value)


def test_merge_keys_are_followed_and_own_keys_win() -> None:
    (root,), _ = compose_documents(
        "base: &b {image: a:1, name: base}\nsvc:\n  <<: *b\n  name: svc\n"
    )
    svc = map_get(root, "svc")
    assert [(k, scalar_value(v)) for k, _, v in map_items(svc)] == [("name", "svc"), ("image", "a:1")]


def test_walk_visits_an_anchored_node_once() -> None:
    (root,), _ = compose_documents("a: &x {image: n:1}\nb: *x\nc: [*x]\n")
    images = [format_path(path) for path, node in walk(root) if scalar_value(node) == "n:1"]
    assert images == ["a.image"]
    assert format_path(("spec", "containers", 0, "image")) == "spec.containers[0].image"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("image: nginx:1.27\n", "nginx:1.27"),
        ("image: 'it''s'  # c\n", "'it''s'"),
        ('image: "nginx\\u003a1"\r\n', '"nginx\\u003a1"'),
        ("image: |\n  nginx:1.27\n\n\nnext: 1\n", "|\n  nginx:1.27"),
        ("image: >-\r\n  nginx:1.27\r\n", ">-\r\n  nginx:1.27"),
        ("\ufeffimage: nginx\n  :1.27\n", "nginx\n  :1.27"),
        ("image: |\n  nginx:1.27", "|\n  nginx:1.27"),
    ],
)
def test_written_span_is_the_scalar_as_written(text: str, expected: str) -> None:
    (root,), offset = compose_documents(text)
    start, end = written_span(map_get(root, "image"), text, offset)  # type: ignore[arg-type]
    assert text[start:end] == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("image: &go 'golang:1.22'\n", "golang:1.22"),
        ("image: &go golang:1.22\n", "golang:1.22"),
        ("image: !!str golang:1.22\n", "golang:1.22"),
        ('image: &x !!str "q:1"\n', "q:1"),
        ("image: ''\n", ""),
    ],
)
def test_anchors_and_tags_before_a_value_are_not_part_of_its_span(text: str, expected: str) -> None:
    assert span_text(text, "image") == expected


YAML_PATHS = [
    "docker-compose.yml",
    "k8s/deployment.yaml",
    ".gitlab-ci.yml",
    ".github/workflows/ci.yml",
    "azure-pipelines.yml",
    ".woodpecker.yml",
    ".buildkite/pipeline.yml",
    "ci/pipeline.yml",
    "charts/app/values.yaml",
]


@pytest.mark.parametrize("path", YAML_PATHS)
@pytest.mark.parametrize(
    "text",
    [
        # A merge key naming the mapping that holds it: following merges recursed without end.
        "&base\n<<: *base\nimage: alpine:3\n",
        "services: &s\n  web:\n    <<: [*s]\n    image: alpine:3\n",
        # Found by the fuzz test in test_contract.py: YAML nested deeper than the pure composer's stack.
        "steps:\n" + "  -" * 800 + " x\n  - [a\n",
    ],
    ids=["self-merge", "merge-of-ancestor", "deep"],
)
def test_yaml_that_cannot_be_walked_is_refused_not_a_crash(path: str, text: str) -> None:
    # Reported as an error by the scanners a path names; YAML of unknown kind is passed over.
    assert scan_text(path, text).occurrences == []


@pytest.mark.slow
def test_yaml_nested_past_the_c_stack_is_refused_not_a_crash() -> None:
    # libyaml's composer recursed once per level in C: tens of thousands of levels killed the
    # process (SIGSEGV). A child process, so that a regression fails this test, not the run.
    program = (
        "from pinbot.scanners import scan_text\n"
        "for text in ('[' * 200000, '- ' * 100000 + 'x', '{a: ' * 100000):\n"
        "    assert 'nested too deeply' in scan_text('docker-compose.yml', text).errors[0].message\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", program], cwd=Path(__file__).parents[2], check=False
    )
    assert done.returncode == 0


# -- the shape check is left out only where no alias and no deep nesting can be ----------------

# One chain of nested collections, written in the block and flow styles that keep a child
# closest to its parent's column: a sequence at its mapping key's column ("map-seq"), `- - x`
# and `- k:` on one line, one space of indentation, flow brackets.
_SLOWEST = ("map-seq", "seq-next-line")  # one column further right every two levels
_OTHER_STEPS = st.sampled_from(["map", "map-seq", "seq-inline", "seq-next-line", "flow"])


def _nested(styles: list[str]) -> tuple[str, int]:
    """YAML text of one chain of collections in these styles, and how deep it nests."""
    lines: list[str] = []
    prefix = ""
    for index, style in enumerate(styles):
        if style == "flow":
            rest = len(styles) - index
            lines.append(prefix + "[" * rest + "x" + "]" * rest)
            return "\n".join(lines) + "\n", len(styles)
        child = styles[index + 1] if index + 1 < len(styles) else "scalar"
        if style == "seq-inline":
            prefix += "- "
            continue
        lines.append(prefix + ("k:" if style.startswith("map") else "-"))
        column = len(prefix)
        same_column = style == "map-seq" and child.startswith("seq")
        prefix = " " * (column if same_column else column + 1)
    if prefix.strip() or not lines:
        lines.append(prefix + "x")
    else:
        lines[-1] += " x"  # the last collection holds its scalar on its own line: `k: x`
    return "\n".join(lines) + "\n", len(styles)


@example(99, [(220, "map")]).via("the deepest chain the bound lets through: 199 levels")
@example(100, [(220, "map")]).via("one level past the limit, by the narrowest margin")
@given(
    st.integers(min_value=90, max_value=110),
    st.lists(st.tuples(st.integers(min_value=0, max_value=220), _OTHER_STEPS), max_size=4),
)
def test_the_shape_check_is_left_out_only_for_trees_within_the_depth_limit(
    pairs: int, others: list[tuple[int, str]]
) -> None:
    from pinbot.scanners._yaml import MAX_DEPTH, _check_shape, _compose, _shallow_tree

    styles = list(_SLOWEST * pairs)
    for position, style in sorted(others, reverse=True):
        styles.insert(position, style)
    text, depth = _nested(styles)
    nodes = _compose(text)  # the chain is valid YAML
    if _shallow_tree(text):
        assert depth <= MAX_DEPTH
        _check_shape(nodes)  # raises nothing


def test_the_depth_bound_lets_ordinary_files_skip_the_shape_check() -> None:
    from pinbot.scanners._yaml import _shallow_tree

    manifest = "spec:\n  containers:\n  - name: a\n    image: nginx:1\n" * 50
    assert _shallow_tree(manifest)
    assert not _shallow_tree(manifest + "x: *anchor\n")  # an alias: the walk looks for cycles
    assert not _shallow_tree("a:\n" + "".join(" " * i + "- - b:\n" for i in range(0, 300, 3)))


def _shape(node: object) -> object:
    """Everything a scanner reads of a node: kind, tag, value, style, where it is written."""
    from ruamel.yaml.nodes import MappingNode, ScalarNode

    marks = (node.start_mark.index, node.end_mark.index)  # type: ignore[attr-defined]
    if isinstance(node, ScalarNode):
        return ("scalar", node.tag, node.value, node.style, marks)
    children = node.value  # type: ignore[attr-defined]
    if isinstance(node, MappingNode):
        return ("map", node.tag, marks, [(_shape(k), _shape(v)) for k, v in children])
    return ("seq", node.tag, marks, [_shape(child) for child in children])


def _stock_nodes(text: str) -> list[object]:
    """The documents ruamel.yaml's own C loader composes."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from ruamel.yaml.cyaml import CBaseLoader

    loader = CBaseLoader(text)
    try:
        documents = []
        while loader.check_node():
            documents.append(loader.get_node())
        return [node for node in documents if node is not None]
    finally:
        loader.dispose()


def _assert_composed_alike(text: str) -> bool:
    from pinbot.scanners._yaml import _compose_fast

    try:
        expected = [_shape(node) for node in _stock_nodes(text)]
    except Exception:  # what libyaml refuses, both refuse
        with pytest.raises(Exception):  # noqa: B017
            _compose_fast(text)
        return False
    assert [_shape(node) for node in _compose_fast(text)] == expected
    return True


@pytest.mark.parametrize(
    "text",
    [
        "a: &x !!str b\nc: *x\nd: !reference [.job, script]\n'e': |\n  f\n",
        "- [1, {g: h}]\n- ? k\n  : v\n--- \n...\n",
        "\ufeffa: 1\n<<: {b: 2}\n",
        "a: [unclosed\n",
    ],
)
def test_the_node_loader_composes_what_ruamels_base_loader_does(text: str) -> None:
    # pinbot's loader answers the resolver's questions itself; the nodes must not change.
    _assert_composed_alike(text)


@pytest.mark.slow
def test_the_node_loader_composes_the_corpus_as_ruamels_base_loader_does() -> None:
    from tests.support.corpus import corpus_root

    paths = sorted(corpus_root().rglob("*.y*ml"))
    assert sum(_assert_composed_alike(path.read_text()) for path in paths) > 1000


POD = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - name: a\n    KEY: nginx:1.27\n"


@pytest.mark.parametrize(
    ("path", "text", "kind"),
    [
        # Documents whose text cannot spell an image key are not walked: a key written with an
        # escape still can, and is read.
        ("values.yaml", '"\\u0069mage": "nginx:1.27"\n', "helm"),
        ("values.yaml", "a: 1\n---\nb: &x {image: nginx:1.27}\nc: *x\n", "helm"),
        ("pod.yaml", POD.replace("KEY", '"\\u0069mage"'), "kubernetes"),
        ("pod.yaml", "kind: List\n---\n" + POD.replace("KEY", "image"), "kubernetes"),
    ],
    ids=["escaped-key", "second-document", "escaped-manifest-key", "second-manifest"],
)
def test_documents_are_walked_whenever_their_text_may_spell_an_image_key(
    path: str, text: str, kind: str
) -> None:
    assert [(o.kind, o.text) for o in scan_text(path, text).occurrences] == [(kind, "nginx:1.27")]


def test_may_spell_looks_within_the_document_only() -> None:
    from pinbot.scanners._yaml import may_spell

    text = "a: image\n---\nb: 1\n---\nc: '\\x'\n"
    first, second, third = compose_documents(text)[0]
    assert may_spell(first, text, 0, ("image",))
    assert not may_spell(second, text, 0, ("image",))
    assert may_spell(third, text, 0, ("image",))  # an escape could spell anything


_VALUES = st.sampled_from(
    [
        "a",
        "*x",
        "&x a",
        "&x [b]",
        "'q*'",
        '"**/*.go"',
        "a*b",
        "[*x]",
        "[a,*x]",
        "{k: *x}",
        '{"k":*x}',
        "? *x",
        "!!str *x",
        "- *x",
        "*x ",
        "echo *",
    ]
)


@given(
    st.lists(st.tuples(st.sampled_from(["key: ", "- ", "  - ", "? ", ": "]), _VALUES), max_size=6)
)
def test_every_alias_libyaml_reads_is_one_the_shape_check_looks_for(
    lines: list[tuple[str, str]],
) -> None:
    import warnings

    from ruamel.yaml.error import YAMLError
    from ruamel.yaml.events import AliasEvent

    from pinbot.scanners._yaml import _ALIAS

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from ruamel.yaml.cyaml import CParser

    text = "".join(lead + value + "\n" for lead, value in lines)
    parser = CParser(text)
    try:
        aliases = 0
        while parser.check_event():
            aliases += isinstance(parser.get_event(), AliasEvent)
    except YAMLError:
        return  # not YAML: composing refuses it before any walk
    finally:
        parser.dispose()
    if aliases:
        assert _ALIAS.search(text)
