"""`pinbot resolve`: print the digest each image reference's tag points at now.

Like `crane digest`, for many references at once; a failure on one does not stop the others.
"""

from __future__ import annotations

import argparse
import json
import sys

from pinbot.commands._common import add_config_argument, load_config_or_exit
from pinbot.reference import DEFAULT_TAG, ImageReference, InvalidReference, parse_normalized
from pinbot.registry import Platform, RegistryError, Resolution, resolve_many
from pinbot.report.escape import terminal

HELP = "Resolve image references to the digests their tags point at now."


def _platform(text: str) -> str:
    try:
        return str(Platform.parse(text))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "references", nargs="+", metavar="REF", help="image reference, e.g. nginx:1.27"
    )
    parser.add_argument(
        "--platform",
        type=_platform,
        default=None,
        metavar="OS/ARCH[/VARIANT]",
        help="the digest of that platform's image instead of the index (e.g. linux/arm64)",
    )
    parser.add_argument(
        "--verify",
        action="store_true",
        help="fetch the manifest and check its bytes hash to the digest",
    )
    parser.add_argument("--format", choices=("text", "json"), default="text")
    add_config_argument(parser)


def _target(text: str) -> ImageReference:
    reference = parse_normalized(text)
    if reference.tag is None and reference.digest is None:
        reference = reference.with_tag(DEFAULT_TAG)
    return reference


def run(args: argparse.Namespace) -> int:
    config = load_config_or_exit(args.config)
    given: list[str] = list(args.references)
    outcomes: dict[int, Resolution | str] = {}
    targets: list[tuple[int, ImageReference]] = []
    for position, text in enumerate(given):
        try:
            targets.append((position, _target(text)))
        except InvalidReference as exc:
            outcomes[position] = str(exc)
    if targets:
        results = resolve_many(
            [reference for _, reference in targets],
            platform=args.platform,
            verify=args.verify,
            config=config,
        )
        for (position, _), result in zip(targets, results, strict=True):
            outcomes[position] = str(result) if isinstance(result, RegistryError) else result

    failed = False
    rows: list[dict[str, str | None]] = []
    for position, text in enumerate(given):
        outcome = outcomes[position]
        if isinstance(outcome, Resolution):
            rows.append({"reference": text, "digest": outcome.digest, "error": None})
        else:
            failed = True
            rows.append({"reference": text, "digest": None, "error": outcome})

    if args.format == "json":
        json.dump(rows, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        for row in rows:
            if row["error"] is None:
                print(f"{terminal(str(row['reference']))}\t{row['digest']}")
            else:
                sys.stdout.flush()
                reference, error = terminal(str(row["reference"])), terminal(str(row["error"]))
                print(f"{reference}\terror: {error}", file=sys.stderr)
    return 1 if failed else 0
