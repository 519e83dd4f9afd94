"""Where the shared real-world corpus lives, and a skip with a clear reason where it does not."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pinbot.scanners import Occurrence, scan_bytes

REPO_ROOT = Path(__file__).resolve().parents[2]


def corpus_root() -> Path:
    """`$PINBOT_CORPUS`, default `../shared/corpus` beside the repository; skips when absent."""
    root = Path(os.environ.get("PINBOT_CORPUS", REPO_ROOT.parent / "shared" / "corpus"))
    if not root.is_dir():
        pytest.skip(f"real-world corpus not found at {root} (set PINBOT_CORPUS)")
    return root


def scan_corpus_file(relative: str) -> list[Occurrence]:
    """Occurrences in one corpus file, its path relative to the corpus root."""
    root = corpus_root()
    return scan_bytes(relative, (root / relative).read_bytes()).occurrences
