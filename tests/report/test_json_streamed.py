"""`scan --format json` is written a record at a time: the text is what `json.dumps` gives."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from pinbot.report.json import streamed

# Values as JSON records hold them, and a few the standard encoder alone knows how to write.
_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | st.text()
    | st.sampled_from(["", "\n", "\u2028", '"\\', "\x00\x1f", "é 日本 🐳", "line\nbreak"])
)
_VALUES = st.recursive(
    _SCALARS,
    lambda inner: st.lists(inner, max_size=4)
    | st.tuples(inner, inner)
    | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    | st.dictionaries(st.integers(), inner, max_size=2),
    max_leaves=12,
)


@settings(max_examples=400, deadline=None)
@given(st.lists(_VALUES, max_size=5))
def test_streamed_records_are_the_text_json_dumps_gives_the_whole_list(
    records: list[object],
) -> None:
    assert "".join(streamed(records)) == json.dumps(records, indent=2) + "\n"


def test_a_scan_record_is_written_as_json_dumps_writes_it() -> None:
    record = {
        "file": "deploy/app\n.yaml",
        "line": 3,
        "column": 12,
        "kind": "kubernetes",
        "text": "nginx:1.27",
        "reference": None,
        "status": "unpinned",
        "context": "spec.containers[0].image",
        "rewritable": True,
        "note": "ünïcode \u2028 and \"quotes\"",
        "span": [40, 50],
        "empty": {},
        "none": [],
    }
    assert "".join(streamed([record, record])) == json.dumps([record, record], indent=2) + "\n"
