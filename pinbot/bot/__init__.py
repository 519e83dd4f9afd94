"""The bot: scan repositories' default branches on GitHub and keep their pinbot pull requests right.

`repository` reads and scans one repository under its own settings; `decide` says, without
touching GitHub, what its pull requests need; `execute` carries that out (or, on a dry run,
describes it); `reconcile` ties the three together for one repository.
"""

from pinbot.bot.decide import OpenPullRoom, branch_slug, group_edits
from pinbot.bot.reconcile import Reconciler
from pinbot.bot.repository import (
    SETTINGS_FILES,
    ScannedRepository,
    lookup_pin,
    read_repository,
    repository_settings,
    scan_snapshot,
    settings_file,
)
from pinbot.bot.result import RepositoryResult

__all__ = [
    "SETTINGS_FILES",
    "OpenPullRoom",
    "Reconciler",
    "RepositoryResult",
    "ScannedRepository",
    "branch_slug",
    "group_edits",
    "lookup_pin",
    "read_repository",
    "repository_settings",
    "scan_snapshot",
    "settings_file",
]
