"""The markers that keep `pytest -m "not integration and not slow"` quick stay true.

`tests/conftest.py` fails a test that starts a process without `slow` (or a server without
`integration`); here an inner pytest run with that conftest shows it does.
"""

from __future__ import annotations

from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

ROOT = Path(__file__).resolve().parents[2]

INNER_TESTS = """
import subprocess, sys
import pytest

def test_starts_a_process_unmarked():
    subprocess.run([sys.executable, "-c", "pass"], check=True)

@pytest.mark.slow
def test_starts_a_process_marked_slow():
    subprocess.run([sys.executable, "-c", "pass"], check=True)

def test_starts_nothing():
    assert sum(range(4)) == 6
"""


@pytest.mark.slow
def test_a_test_starting_a_process_must_be_marked_slow(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makeconftest((ROOT / "tests" / "conftest.py").read_text())
    pytester.makeini("[pytest]\nmarkers =\n    slow: s\n    integration: i\n")
    pytester.makepyfile(test_inner=INNER_TESTS)
    monkeypatch.setenv("PYTHONPATH", str(ROOT))

    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")

    result.assert_outcomes(passed=3, errors=1)
    result.stdout.fnmatch_lines(
        ["*test_starts_a_process_unmarked starts the process * but is not marked slow*"]
    )
    assert "test_starts_a_process_marked_slow starts" not in result.stdout.str()
