"""kustomize refuses an `images` entry whose value is not a string; pinbot says invalid.

Evidence: kubernetes-sigs/kustomize api/types/kustomization.go `Unmarshal` converts the YAML
to JSON with sigs.k8s.io/yaml `YAMLToJSON` (v1.5.0: go-yaml v2, YAML 1.1 scalars, no target
type, so nothing is coerced) and decodes that with encoding/json into `types.Image`, whose
`name`, `newName`, `newTag` and `digest` are Go strings. A plain scalar go-yaml v2 resolves to
an int, a float or a bool (resolve.go: `1`, `2.5`, `0x1F`, `1_000`, `yes`, `on`, `off`, `y`)
fails that decode ("json: cannot unmarshal number into Go struct field Image.images.newTag of
type string"), NaN and infinities cannot be written as JSON at all, and a null is an empty
string. Quoted scalars, `!!str`, and timestamps (kept as strings for `interface{}`) are fine.
"""

from __future__ import annotations

import pytest

from pinbot.scanners import Status, scan_text
from tests.support.roundtrip import pin_file

DIGEST = "sha256:" + "e" * 64


def entry(value: str, key: str = "newTag") -> str:
    return f"images:\n- name: nginx\n  {key}: {value}\n"


def number(key: str) -> str:
    return (
        "invalid Kustomization: json: cannot unmarshal number into Go struct field "
        f"Image.images.{key} of type string"
    )


BOOL = (
    "invalid Kustomization: json: cannot unmarshal bool into Go struct field "
    "Image.images.newTag of type string"
)

# (value as written, kustomize's error or None when it reads the entry)
CASES: list[tuple[str, str | None]] = [
    ("2.5", number("newTag")),
    ("1", number("newTag")),
    ("-1", number("newTag")),
    ("1.", number("newTag")),
    (".5", number("newTag")),
    ("1e3", number("newTag")),
    ("0x1F", number("newTag")),
    ("0o17", number("newTag")),
    ("017", number("newTag")),
    ("08", number("newTag")),  # not octal, but a float
    ("1_000", number("newTag")),
    ("20240101", number("newTag")),
    ("99999999999999999999", number("newTag")),  # past 64 bits: a float
    ("yes", BOOL),
    ("on", BOOL),
    ("Off", BOOL),
    ("n", BOOL),
    ("TRUE", BOOL),
    (".inf", "invalid Kustomization: json: unsupported value: +Inf"),
    ("-.Inf", "invalid Kustomization: json: unsupported value: -Inf"),
    (".NaN", "invalid Kustomization: json: unsupported value: NaN"),
    ("{major: 1}", number("newTag").replace("number", "object")),
    ("[1, 2]", number("newTag").replace("number", "array")),
    ('"2.5"', None),
    ("'2.5'", None),
    ("!!str 2.5", None),
    ("v2.5", None),
    ("1.2.3", None),
    ("1.27-alpine", None),
    ("2024-01-01", None),  # a timestamp: kept as the string it is written as
    ("0x", None),
    ("yes-please", None),
    ("nginx", None),
]


@pytest.mark.parametrize(("value", "rejected"), CASES, ids=[value for value, _ in CASES])
def test_a_value_kustomize_does_not_read_as_a_string_is_invalid(
    value: str, rejected: str | None
) -> None:
    [occurrence] = scan_text("kustomization.yaml", entry(value)).occurrences
    if rejected is None:
        assert occurrence.status is Status.UNPINNED
        assert occurrence.rewritable
    else:
        assert occurrence.status is Status.INVALID
        assert occurrence.note == rejected
        assert not occurrence.rewritable
        assert occurrence.text == value


def test_other_fields_are_checked_too() -> None:
    text = "images:\n- name: nginx\n  newName: 42\n  newTag: '1.27'\n"
    [occurrence] = scan_text("kustomization.yaml", text).occurrences
    assert (occurrence.status, occurrence.note, occurrence.context) == (
        Status.INVALID,
        number("newName"),
        "images[0].newName",
    )


def test_a_null_is_no_tag() -> None:
    # Before, `~` was read as the tag: `mirror.gcr.io/nginx:~`, an invalid reference.
    text = "images:\n- name: nginx\n  newName: mirror.gcr.io/nginx\n  newTag: ~\n"
    [occurrence] = scan_text("kustomization.yaml", text).occurrences
    assert occurrence.reference_text == "mirror.gcr.io/nginx"
    assert not occurrence.rewritable  # no tag and no digest: nothing to resolve
    assert scan_text("kustomization.yaml", entry("null")).occurrences == []  # a name alone


def test_an_invalid_entry_is_never_pinned_and_the_others_are() -> None:
    text = "images:\n- name: nginx\n  newTag: 1.27\n- name: redis\n  newTag: '7.2'\n"
    digests = {"docker.io/library/nginx:1.27": DIGEST, "docker.io/library/redis:7.2": DIGEST}
    updated, result = pin_file("kustomization.yaml", text.encode(), digests)
    assert updated.decode() == text + f"  digest: {DIGEST}\n"
    assert [edit.occurrence.reference_text for edit in result.edits] == ["redis:7.2"]
