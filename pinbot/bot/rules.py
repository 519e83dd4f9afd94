"""What the configuration's rules say about a pull request, from the updates it holds.

Each update is under the first rule matching its image and file (`Config.rule_for`), or under
the global `github` keys when none does. A pull request holding updates under several rules
gets the labels and reviewers of each (in the order first met), and may be automerged only
when every update in it may be. Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from pinbot.config import Config, GithubConfig, Rule
from pinbot.plan import Edit
from pinbot.prbody import Update
from pinbot.reference import ImageReference, InvalidReference, parse
from pinbot.scanners import Occurrence


def rule_of(reference: ImageReference, path: str, config: Config) -> Rule | None:
    """The rule an occurrence of `reference` in `path` is under (None: the global keys)."""
    return config.rule_for(reference, path)


def occurrence_rule(occurrence: Occurrence, config: Config) -> Rule | None:
    reference = occurrence.reference
    assert reference is not None  # an update is only ever made for a parsed reference
    return rule_of(reference, occurrence.file, config)


def edit_rule(edit: Edit, config: Config) -> Rule | None:
    return occurrence_rule(edit.occurrence, config)


def group_of(occurrence: Occurrence, config: Config) -> str | None:
    """The named group (a rule's `group`) an update of the occurrence goes into, if any."""
    rule = occurrence_rule(occurrence, config)
    return rule.group if rule is not None else None


@dataclass(frozen=True)
class Governed:
    """One update as the rules see it: is it a first pin, and the rule it is under."""

    is_pin: bool
    rule: Rule | None


def governed_edits(edits: Iterable[Edit], config: Config) -> list[Governed]:
    return [Governed(edit.old_digest is None, edit_rule(edit, config)) for edit in edits]


def governed_updates(updates: Iterable[Update], config: Config) -> list[Governed]:
    """Updates recorded in a pull request's state, under the rules of `config` now (an image
    name the state holds that does not parse is under no rule)."""
    found = []
    for update in updates:
        try:
            reference = parse(f"{update.image}:{update.tag}" if update.tag else update.image)
        except InvalidReference:
            found.append(Governed(update.is_pin, None))
            continue
        found.append(Governed(update.is_pin, rule_of(reference, update.file, config)))
    return found


@dataclass(frozen=True)
class PullSettings:
    """What a pull request gets from the rules of its updates."""

    labels: tuple[str, ...]
    reviewers: tuple[str, ...]
    automerge: bool  # every update in it is under automerge
    first_pins: tuple[bool, ...] = ()  # per first pin in it: may automerge merge it

    @property
    def first_pins_allowed(self) -> bool:
        return all(self.first_pins)

    @property
    def has_first_pins(self) -> bool:
        return bool(self.first_pins)


def _union(lists: Iterable[Iterable[str]]) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for names in lists:
        for name in names:
            seen.setdefault(name, None)
    return tuple(seen)


def _labels(rule: Rule | None, github: GithubConfig) -> tuple[str, ...]:
    return rule.labels if rule is not None and rule.labels is not None else github.labels


def _reviewers(rule: Rule | None, github: GithubConfig) -> tuple[str, ...]:
    return rule.reviewers if rule is not None and rule.reviewers is not None else github.reviewers


def _automerge(rule: Rule | None, github: GithubConfig) -> bool:
    return rule.automerge if rule is not None and rule.automerge is not None else github.automerge


def _automerge_first_pin(rule: Rule | None, github: GithubConfig) -> bool:
    if rule is not None and rule.automerge_first_pin is not None:
        return rule.automerge_first_pin
    return github.automerge_first_pin


def pull_settings(governed: Iterable[Governed], config: Config) -> PullSettings:
    """The labels, reviewers and automerge of a pull request holding these updates."""
    github = config.github
    items = list(governed)
    return PullSettings(
        labels=_union(_labels(item.rule, github) for item in items),
        reviewers=_union(_reviewers(item.rule, github) for item in items),
        automerge=bool(items) and all(_automerge(item.rule, github) for item in items),
        first_pins=tuple(_automerge_first_pin(i.rule, github) for i in items if i.is_pin),
    )


def edits_settings(edits: Iterable[Edit], config: Config) -> PullSettings:
    return pull_settings(governed_edits(edits, config), config)


def updates_settings(updates: Iterable[Update], config: Config) -> PullSettings:
    return pull_settings(governed_updates(updates, config), config)
