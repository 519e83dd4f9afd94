"""`pinbot run`: the bot over GitHub repositories, opening and keeping pull requests.

Parses the arguments, runs `pinbot.bot.run.run_bot`, prints its summary (and in GitHub
Actions writes the job summary and `::warning` annotations), and exits with a status that
says whether a repository failed or something could not be checked.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from pinbot.bot.result import RepositoryResult
from pinbot.bot.run import RunOptions, RunSummary, run_bot
from pinbot.commands._common import (
    add_config_argument,
    add_state_argument,
    load_config_or_exit,
    trust_policies_or_exit,
)
from pinbot.commands._github import (
    add_cache_argument,
    add_repository_arguments,
    github_credentials,
    selection,
)
from pinbot.errors import PinbotError
from pinbot.forge.github import CredentialsError, Pacing
from pinbot.progress import Progress
from pinbot.report import run_summary
from pinbot.report.escape import terminal
from pinbot.settle_store import StateFileError

#: Exit statuses, most serious first (README, `pinbot run`).
REPOSITORY_FAILED = 1  # a repository failed, or there was nothing to run over
USAGE = 2  # bad arguments, configuration or credentials
NOT_ALL_CHECKED = 4  # every repository handled, but a lookup failed, a file went unread, ...

HELP = "Open and maintain digest pull requests on GitHub repositories (one, several or an organisation)."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_repository_arguments(parser, shard_purpose="for parallel jobs")
    parser.add_argument(
        "--dry-run", action="store_true", help="print what would be opened, write nothing"
    )
    add_cache_argument(
        parser,
        help_text="keep GitHub answers here between runs: unchanged reads are then answered 304, "
        "which GitHub does not count against the rate limit (keep DIR with actions/cache)",
    )
    parser.add_argument(
        "--write-interval",
        type=float,
        default=Pacing.between_writes,
        metavar="SECONDS",
        help="pause between GitHub write requests (default 1, as GitHub asks)",
    )
    parser.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        help="no progress on stderr (by default one line per repository as it finishes)",
    )
    add_state_argument(
        parser,
        default="settle-state.json in --cache-dir, else $XDG_CACHE_HOME/pinbot/settle-state.json",
    )
    add_config_argument(parser)


class RunProgress:
    """The run's progress on stderr (see `pinbot.progress`): a line per repository."""

    def __init__(self, *, quiet: bool) -> None:
        self.display = Progress(quiet=quiet)

    def started(self, repositories: int) -> None:
        self.display.total = repositories

    def stage(self, text: str) -> None:
        self.display.note(text)

    def finished(self, result: RepositoryResult, calls: int) -> None:
        self.display.finish(run_summary.progress_line(result, calls))


def run_options(args: argparse.Namespace) -> RunOptions:
    return RunOptions(
        selection=selection(args),
        dry_run=args.dry_run,
        cache_dir=args.cache_dir,
        state_file=args.state,
        pacing=Pacing(between_writes=args.write_interval),
    )


def report(summary: RunSummary, environ: dict[str, str] | os._Environ[str] = os.environ) -> None:
    sys.stdout.write(run_summary.text(summary))
    if environ.get("GITHUB_ACTIONS") == "true":
        for line in run_summary.workflow_warnings(summary):
            print(line)
        step_summary = environ.get("GITHUB_STEP_SUMMARY")
        if step_summary:
            with Path(step_summary).open("a", encoding="utf-8") as stream:
                stream.write(run_summary.markdown(summary))


def exit_status(summary: RunSummary) -> int:
    """1 when a repository failed; else 4 when something could not be checked or the trust
    gate held a digest back; else 0."""
    if summary.failures:
        return REPOSITORY_FAILED
    return NOT_ALL_CHECKED if summary.unchecked else 0


def run(args: argparse.Namespace) -> int:
    config = load_config_or_exit(args.config)
    trust_policies_or_exit(config)  # a `verify:` key that is not one: status 2, nothing read
    credentials = github_credentials(args, "run", ("include", "exclude", "topic"))
    if credentials is None:
        return USAGE
    progress = RunProgress(quiet=args.quiet)
    try:
        summary = run_bot(config, credentials, run_options(args), progress)
    except (CredentialsError, StateFileError) as exc:  # no installation; --state unwritable
        print(f"pinbot run: {terminal(str(exc))}", file=sys.stderr)
        return USAGE
    except PinbotError as exc:  # nothing to run over: the organisation could not be listed
        print(f"pinbot run: {terminal(str(exc))}", file=sys.stderr)
        return REPOSITORY_FAILED
    finally:
        progress.display.close()
    report(summary)
    return exit_status(summary)
