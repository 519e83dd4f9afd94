"""The package's shape holds: short functions and classes, scanners as independent plug-ins.

Parses `pinbot/` with `ast` (nothing is imported), so a rule that breaks names the file and
line to look at.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "pinbot"
SCANNERS = PACKAGE / "scanners"

MAX_FUNCTION_LINES = 60
MAX_CLASS_LINES = 300
MAX_SCANNERS_INIT_LINES = 80
LONG_MARK = "# long:"


def _modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def _first_line(node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) -> int:
    """The line a `# long:` comment stands above: the first decorator's, else the `def`'s."""
    return min([node.lineno, *(d.lineno for d in node.decorator_list)])


def _has_long_reason(lines: list[str], first: int) -> bool:
    """Whether the comment block right above line `first` opens with `# long: <why>`.

    The reason may run on over several comment lines; only its first line carries the mark.
    """
    index = first - 2
    opening = None
    while index >= 0 and lines[index].strip().startswith("#"):
        opening = lines[index].strip()
        index -= 1
    return (
        opening is not None
        and opening.startswith(LONG_MARK)
        and bool(opening[len(LONG_MARK) :].strip())
    )


def oversized(source: str, path: str = "<source>") -> Iterator[str]:
    """Each function over 60 and class over 300 lines without a `# long:` line above it."""
    lines = source.splitlines()
    for node in ast.walk(ast.parse(source, path)):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            limit, kind = MAX_FUNCTION_LINES, "function"
        elif isinstance(node, ast.ClassDef):
            limit, kind = MAX_CLASS_LINES, "class"
        else:
            continue
        assert node.end_lineno is not None
        length = node.end_lineno - node.lineno + 1
        if length <= limit:
            continue
        if not _has_long_reason(lines, _first_line(node)):
            yield f"{path}:{node.lineno}: {kind} {node.name} has {length} lines (limit {limit})"


def _imported_modules(tree: ast.Module, package: str) -> Iterator[str]:
    """Every module a file imports, absolute names (relative imports resolved in `package`)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{parent}.{base}" if base else parent
            yield base
            # `from pinbot.scanners import helm` imports a module through its package
            yield from (f"{base}.{alias.name}" for alias in node.names)


def _is_scanner_module(name: str) -> bool:
    return name != "interface" and not name.startswith("_")


def foreign_scanner_imports(path: Path) -> Iterator[str]:
    """Each scanner module another scanner module imports, once."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    seen: set[str] = set()
    for module in _imported_modules(tree, "pinbot.scanners"):
        prefix = "pinbot.scanners."
        if not module.startswith(prefix):
            continue
        first = module[len(prefix) :].split(".")[0]
        if _is_scanner_module(first) and (SCANNERS / f"{first}.py").exists() and first not in seen:
            seen.add(first)
            yield f"{path.name} imports pinbot.scanners.{first}"


def test_oversized_finds_a_long_function_and_honours_the_long_comment() -> None:
    body = "".join(f"    x = {n}\n" for n in range(MAX_FUNCTION_LINES))
    bare = f"def too_long():\n{body}"
    assert [m.split(": ", 1)[1] for m in oversized(bare)] == [
        "function too_long has 61 lines (limit 60)"
    ]
    marked = f"# long: one table the reader wants in one place\n@decorated\ndef too_long():\n{body}"
    assert list(oversized(marked)) == []
    run_on = f"# long: one table the reader\n# wants in one place\ndef too_long():\n{body}"
    assert list(oversized(run_on)) == []
    mark_not_above = f"# long: about something else\n\ndef too_long():\n{body}"
    assert len(list(oversized(mark_not_above))) == 1
    empty_reason = f"# long:\ndef too_long():\n{body}"
    assert len(list(oversized(empty_reason))) == 1
    fits = f"def fits():\n{body[: body.rindex('    x')]}"
    assert list(oversized(fits)) == []


def test_oversized_finds_a_long_class() -> None:
    body = "".join(f"    x{n} = {n}\n" for n in range(MAX_CLASS_LINES))
    assert [m.split(": ", 1)[1] for m in oversized(f"class Big:\n{body}")] == [
        "class Big has 301 lines (limit 300)"
    ]


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_function_over_60_or_class_over_300_lines_without_a_reason(path: Path) -> None:
    found = list(oversized(path.read_text(encoding="utf-8"), str(path.relative_to(PACKAGE))))
    assert found == [], "split it, or put `# long: <why>` on the line above:\n" + "\n".join(found)


def test_scanner_modules_import_no_other_scanner_module() -> None:
    scanner_modules = [p for p in sorted(SCANNERS.glob("*.py")) if _is_scanner_module(p.stem)]
    assert len(scanner_modules) > 10  # the rule reads the real folder
    found = [line for path in scanner_modules for line in foreign_scanner_imports(path)]
    assert found == [], "share it through a private scanners/_*.py module:\n" + "\n".join(found)


def test_a_scanner_importing_a_sibling_is_caught(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text(
        "from pinbot.scanners import interface, _yaml, helm\n"
        "from pinbot.scanners.bake import _HclLexer\n"
        "import pinbot.scanners.kustomize\n"
        "from . import compose\n"
        "from ._hcl import tokens\n",
        encoding="utf-8",
    )
    assert sorted(foreign_scanner_imports(sample)) == [
        "sample.py imports pinbot.scanners.bake",
        "sample.py imports pinbot.scanners.compose",
        "sample.py imports pinbot.scanners.helm",
        "sample.py imports pinbot.scanners.kustomize",
    ]


def test_scanners_package_face_stays_thin() -> None:
    lines = (SCANNERS / "__init__.py").read_text(encoding="utf-8").splitlines()
    assert len(lines) <= MAX_SCANNERS_INIT_LINES


def test_every_exception_pinbot_defines_derives_from_pinbot_error() -> None:
    # Imported here, unlike the rest of this file: whether a base is PinbotError, possibly
    # through another pinbot exception, is only known once the classes exist.
    import importlib
    import inspect

    from pinbot.errors import PinbotError

    outside = []
    for path in _modules():
        if path.name == "__main__.py":  # importing it runs the command line
            continue
        name = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        module = importlib.import_module(name.removesuffix(".__init__"))
        for _, cls in inspect.getmembers(module, inspect.isclass):
            mine = cls.__module__ == module.__name__
            if mine and issubclass(cls, BaseException) and not issubclass(cls, PinbotError):
                outside.append(f"{cls.__module__}.{cls.__qualname__}")
    assert outside == []
