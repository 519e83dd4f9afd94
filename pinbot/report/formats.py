"""The output formats each command offers, by the name `--format` takes.

Adding a format: a module beside `text.py` with a function per command it serves, then one
entry in the tables below. A format's module is imported when that format is used, so a
command starts without loading the renderers (and what they import) it does not write.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Generic, TypeVar, cast

if TYPE_CHECKING:
    from pinbot.audit import AuditReport
    from pinbot.report.interface import CheckRenderer
    from pinbot.scanners import Occurrence

Renderer = TypeVar("Renderer")


class _Renderers(Mapping[str, Renderer], Generic[Renderer]):
    """Renderers by format name, each given as `module:function` under `pinbot.report`."""

    def __init__(self, where: Mapping[str, str]) -> None:
        self._where = dict(where)

    def __getitem__(self, name: str) -> Renderer:
        module, function = self._where[name].split(":")
        return cast(Renderer, getattr(importlib.import_module(f"pinbot.report.{module}"), function))

    def __iter__(self) -> Iterator[str]:
        return iter(self._where)

    def __len__(self) -> int:
        return len(self._where)


SCAN: Mapping[str, Callable[[Sequence[Occurrence]], str]] = _Renderers(
    {"text": "text:occurrences", "json": "json:occurrences"}
)

CHECK: Mapping[str, CheckRenderer] = _Renderers(
    {
        "text": "text:findings",
        "json": "json:findings",
        "sarif": "sarif:findings",
        "github": "github:findings",
    }
)

AUDIT: Mapping[str, Callable[[AuditReport], str]] = _Renderers(
    {
        "text": "text:audit",
        "json": "json:audit",
        "csv": "csv:audit",
        "markdown": "markdown:audit",
        "sarif": "sarif:audit",
    }
)
