"""The JSON-with-comments reader dev container and Bake files share."""

from __future__ import annotations

from pinbot.scanners._jsonc import JsonArray, JsonObject, JsonScalar, JsonString, parse_jsonc


def test_jsonc_reader_keeps_values_and_spans() -> None:
    node = parse_jsonc('{"a": [1, -2.5e3, true, false, null, "s\\"t"], "b": {},}')
    assert isinstance(node, JsonObject)
    array = node.get("a")
    assert isinstance(array, JsonArray)
    values = [item.value for item in array.items if isinstance(item, JsonScalar | JsonString)]
    assert values == [1.0, -2500.0, True, False, None, 's"t']
    last = array.items[-1]
    assert isinstance(last, JsonString) and last.escaped
