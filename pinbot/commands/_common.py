"""Pieces the subcommands share: the `--config` option and loading it with a clear error."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from pinbot.config import Config, ConfigError, load_config
from pinbot.report.escape import terminal
from pinbot.scanners import TreeScan, scan_tree


def add_config_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config", type=Path, default=None, metavar="FILE", help="pinbot YAML configuration"
    )


def load_config_or_exit(path: Path | None) -> Config:
    try:
        return load_config(path)
    except (ConfigError, OSError) as exc:
        print(f"pinbot: {exc}", file=sys.stderr)
        raise SystemExit(2) from exc


def scan_folder(command: str, root: Path, config: Config) -> TreeScan:
    """Scan `root` with the config's ignore globs; warnings go to stderr.

    Exits with status 2 when `root` is not a folder.
    """
    if not root.is_dir():
        print(f"pinbot {command}: {terminal(str(root))}: not a folder", file=sys.stderr)
        raise SystemExit(2)
    scanned = scan_tree(
        root, ignore_paths=config.scan.ignore_paths, ignore_images=config.scan.ignore_images
    )
    for problem in scanned.errors:
        print(f"warning: {terminal(str(problem))}", file=sys.stderr)
    return scanned
