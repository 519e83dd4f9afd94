"""Which GitHub repositories a command works on: `--repo`, or `--org` with its filters, in one
`--shard`; shared by `pinbot run` and `pinbot audit`, which choose them the same way and read
the same credentials.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from github.Repository import Repository

from pinbot.forge.cache import ResponseCache
from pinbot.forge.github import Credentials, GitHubForge, RepositoryFilter, RepositorySelection
from pinbot.report.escape import terminal


def shard(text: str) -> tuple[int, int]:
    """`--shard I/N` as (I, N)."""
    index, _, count = text.partition("/")
    if not (index.isdigit() and count.isdigit()) or int(count) < 1 or int(index) >= int(count):
        raise argparse.ArgumentTypeError(f"{text!r}: expected I/N with 0 <= I < N, like 0/4")
    return int(index), int(count)


def full_name(text: str) -> str:
    """`--repo OWNER/NAME`, checked."""
    owner, _, name = text.partition("/")
    if not owner or not name or "/" in name:
        raise argparse.ArgumentTypeError(f"{text!r}: expected OWNER/NAME")
    return text


def add_repository_arguments(parser: argparse.ArgumentParser, *, shard_purpose: str) -> None:
    """`--repo` or `--org` (one is required), the filters of `--org`, and `--shard`."""
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument(
        "--repo",
        action="append",
        type=full_name,
        metavar="OWNER/NAME",
        help="a repository (repeatable)",
    )
    where.add_argument("--org", metavar="ORG", help="every repository of an organisation")
    parser.add_argument(
        "--include",
        action="append",
        default=[],
        metavar="GLOB",
        help="with --org: only names matching",
    )
    parser.add_argument(
        "--exclude",
        action="append",
        default=[],
        metavar="GLOB",
        help="with --org: leave out names matching",
    )
    parser.add_argument(
        "--topic",
        action="append",
        default=[],
        metavar="TOPIC",
        help="with --org: only repositories with a topic",
    )
    parser.add_argument(
        "--include-archived", action="store_true", help="with --org: archived repositories too"
    )
    parser.add_argument("--include-forks", action="store_true", help="with --org: forks too")
    parser.add_argument(
        "--shard",
        type=shard,
        default=None,
        metavar="I/N",
        help=f"take only shard I of N (sha256 of OWNER/NAME mod N), {shard_purpose}",
    )


def add_cache_argument(parser: argparse.ArgumentParser, *, help_text: str) -> None:
    """`--cache-dir`, where GitHub answers are kept between runs."""
    parser.add_argument("--cache-dir", type=Path, default=None, metavar="DIR", help=help_text)


def response_cache(args: argparse.Namespace) -> ResponseCache | None:
    return ResponseCache(args.cache_dir) if args.cache_dir is not None else None


def selection(args: argparse.Namespace) -> RepositorySelection:
    """The repositories `--repo`, or `--org` with its filters, and `--shard` choose."""
    return RepositorySelection(
        repositories=tuple(args.repo or ()),
        organisation=args.org,
        wanted=RepositoryFilter(
            include=tuple(args.include),
            exclude=tuple(args.exclude),
            topics=tuple(args.topic),
            include_archived=args.include_archived,
            include_forks=args.include_forks,
        ),
        shard=args.shard,
    )


def installation_owner(args: argparse.Namespace) -> str | None:
    """The owner whose GitHub App installation to use: the organisation, or the first --repo's."""
    return selection(args).installation_owner


def choose_repositories(
    forge: GitHubForge, args: argparse.Namespace
) -> tuple[list[tuple[str, Repository | None]], dict[str, str]]:
    """The repositories to work on (in this shard), and those the --org filter left out with why."""
    return forge.choose_repositories(selection(args))


def _options(names: Sequence[str]) -> str:
    """`--include, --exclude and --topic` for the argument names `include`, `exclude`, `topic`."""
    options = [f"--{name.replace('_', '-')}" for name in names]
    return ", ".join(options[:-1]) + f" and {options[-1]}" if len(options) > 1 else options[0]


def github_credentials(
    args: argparse.Namespace, command: str, org_filters: Sequence[str]
) -> Credentials | None:
    """The GitHub credentials from the environment, or None (with why on stderr, for exit
    status 2) when they are missing or when one of `org_filters` is given without `--org`."""
    if not args.org and any(getattr(args, name) for name in org_filters):
        print(f"pinbot {command}: {_options(org_filters)} need --org", file=sys.stderr)
        return None
    try:
        return Credentials.from_environment()
    except (ValueError, OSError) as exc:
        print(f"pinbot {command}: {terminal(str(exc))}", file=sys.stderr)
        return None
