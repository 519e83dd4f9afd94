"""Pieces the subcommands share: their common options (`--config`; the paths and `--format` of
the commands over files; `--state`), loading the config (and its `verify:` keys) with a clear
error, and scanning the paths given."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from pinbot.report.escape import terminal

if TYPE_CHECKING:
    from pinbot.config import Config
    from pinbot.scanners import FileScan, TreeScan
    from pinbot.supplychain.gate import TrustPolicy

T = TypeVar("T")


def add_config_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config", type=Path, default=None, metavar="FILE", help="pinbot YAML configuration"
    )


def load_config_or_exit(path: Path | None) -> Config:
    from pinbot.config import ConfigError, load_config

    try:
        return load_config(path)
    except (ConfigError, OSError) as exc:
        print(f"pinbot: {terminal(str(exc))}", file=sys.stderr)
        raise SystemExit(2) from exc


def trust_policies_or_exit(config: Config) -> tuple[TrustPolicy, ...]:
    """The `verify:` entries with their keys read; exits with status 2 when a key is not one."""
    # Imported here: a plain `check` (a pre-commit hook) starts faster without the registry
    # client and the supply-chain readers.
    from pinbot.supplychain import SupplyChainError
    from pinbot.supplychain.stage import trust_policies

    try:
        return trust_policies(config.verify)
    except SupplyChainError as exc:
        where = f"{config.source}: " if config.source else ""
        print(f"pinbot: {terminal(where + str(exc))}", file=sys.stderr)
        raise SystemExit(2) from exc


def add_file_arguments(
    parser: argparse.ArgumentParser,
    verb: str,
    output_formats: Iterable[str],
    *,
    format_help: str | None = None,
    switches: Mapping[str, str] | None = None,
) -> None:
    """What every command over files and folders takes: the paths, `--format` (text unless
    asked), the command's own on/off `switches` (option and help), and `--config`."""
    parser.add_argument(
        "path",
        nargs="*",
        type=Path,
        metavar="PATH",
        help=f"files and folders to {verb} (default .)",
    )
    parser.add_argument("--format", choices=tuple(output_formats), default="text", help=format_help)
    for option, help_text in (switches or {}).items():
        parser.add_argument(option, action="store_true", help=help_text)
    add_config_argument(parser)


def add_state_argument(parser: argparse.ArgumentParser, *, default: str, note: str = "") -> None:
    """`--state FILE`, the min-age memory; `default` says where it is when not given."""
    parser.add_argument(
        "--state",
        type=Path,
        default=None,
        metavar="FILE",
        help=f"where min-age remembers when each digest was first seen (default {default}){note}",
    )


def scan_root(paths: Sequence[Path]) -> Path:
    """The folder the files of a scan are named from.

    One folder: that folder (as it always was). Otherwise the working directory when it holds
    every path, so files are named as they were given; else the deepest folder holding them.
    """
    if len(paths) == 1 and paths[0].is_dir():
        return paths[0]
    absolute = [os.path.abspath(path) for path in paths]
    cwd = os.getcwd()
    if all(os.path.commonpath([cwd, path]) == cwd for path in absolute):
        return Path(".")
    common = os.path.commonpath(absolute)
    return Path(common if os.path.isdir(common) else os.path.dirname(common))


def _scan_or_exit(
    scan: Callable[..., T],
    command: str,
    paths: Sequence[Path],
    config: Config | None,
    **options: bool,
) -> T:
    """`scan` (`scan_paths` or `scan_stream`) over the paths (the working directory when none
    is given), named from their `scan_root`, with the config's ignore globs.

    Exits with status 2 when a path does not exist.
    """
    # The scanners and the planner are imported where a scan needs them: `resolve` shares
    # this module and reads no files, and starts faster without them.
    from pinbot.scanners import PathNotFound

    chosen = list(paths) or [Path(".")]
    try:
        return scan(
            chosen,
            root=scan_root(chosen),
            ignore_paths=config.scan.ignore_paths if config is not None else (),
            ignore_images=config.scan.ignore_images if config is not None else (),
            **options,
        )
    except PathNotFound as exc:
        print(f"pinbot {command}: {terminal(str(exc))}", file=sys.stderr)
        raise SystemExit(2) from exc


def scan_folder(
    command: str, paths: Sequence[Path], config: Config, *, warn: bool = True
) -> TreeScan:
    """Scan files and folders (the working directory when none is given) with the config's
    ignore globs and `ignore` rules; with `warn`, problems are printed to stderr as warnings
    (a command that fails on them reports them itself).

    Exits with status 2 when a path does not exist.
    """
    from pinbot.plan import apply_ignore_rules
    from pinbot.scanners import scan_paths

    scanned = _scan_or_exit(scan_paths, command, paths, config)
    scanned.occurrences = apply_ignore_rules(scanned.occurrences, config.rules)
    if warn:
        for problem in scanned.errors:
            print(f"warning: {terminal(str(problem))}", file=sys.stderr)
    return scanned


def stream_folder(
    command: str, paths: Sequence[Path], config: Config | None, *, keep_contents: bool = False
) -> Iterator[FileScan]:
    """`scan_folder` a file at a time, in path order, as each is scanned: its occurrences with
    the `ignore` rules applied, its problems printed to stderr as warnings as they come. Only
    with `keep_contents` does a file keep its bytes. `config` None: no configuration file was
    given, so no ignore globs and no rules (what `Config()` holds), and the configuration
    module is not loaded.

    Exits with status 2 when a path does not exist, before anything is read.
    """
    from pinbot.scanners import scan_stream

    stream = _scan_or_exit(scan_stream, command, paths, config, keep_contents=keep_contents)
    return _with_rules_and_warnings(stream, config)


def _with_rules_and_warnings(
    stream: Iterator[FileScan], config: Config | None
) -> Iterator[FileScan]:
    rules = config.rules if config is not None else ()
    if rules:  # without rules there is nothing to mark, and the planner is not loaded
        from pinbot.plan import apply_ignore_rules
    for scanned in stream:
        outcome = scanned.outcome
        if rules:
            outcome.occurrences = apply_ignore_rules(outcome.occurrences, rules)
        for problem in outcome.errors:
            print(f"warning: {terminal(str(problem))}", file=sys.stderr)
        yield scanned
