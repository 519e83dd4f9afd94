"""Pieces the subcommands share: the `--config` option and loading it with a clear error."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from pinbot.config import Config, ConfigError, load_config


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
