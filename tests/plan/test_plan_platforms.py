"""The platform decisions of `plan`, table by table: what a pinned platform manifest becomes
when its tag moves, and when it is left alone with a note saying why."""

from __future__ import annotations

import pytest

from pinbot.config import PinConfig, Rule
from pinbot.plan import (
    Action,
    Child,
    Lookup,
    ManifestKind,
    NoticeKind,
    manifest_key,
    normal_platform,
    plan,
)
from pinbot.scanners import scan_bytes

NAME = "registry.example/demo/app"
KEY = f"{NAME}:1.0"


def digest(char: str) -> str:
    return "sha256:" + char * 64


INDEX_1, AMD_1, ARM_1 = digest("1"), digest("a"), digest("b")
INDEX_2, AMD_2, ARM_2 = digest("2"), digest("c"), digest("d")
NEW_INDEX = Lookup(
    INDEX_2,
    verified=True,
    kind=ManifestKind.INDEX,
    children=(Child("linux/amd64", AMD_2), Child("linux/arm64", ARM_2)),
)


def verified(*digests: str) -> dict[str, Lookup]:
    return {manifest_key(NAME, d): Lookup(d, verified=True, kind=ManifestKind.IMAGE) for d in digests}


def pinned(held: str, flag: str = "") -> list:  # type: ignore[type-arg]
    line = f"FROM {flag}{NAME}:1.0@{held}\n"
    return scan_bytes("Dockerfile", line.encode()).occurrences


def held_image(held: str, platform: str | None) -> dict[str, Lookup]:
    return {manifest_key(NAME, held): Lookup(held, True, kind=ManifestKind.IMAGE, platform=platform)}


def test_a_platform_manifest_of_the_index_the_tag_points_at_is_current() -> None:
    result = plan(pinned(ARM_2), {KEY: NEW_INDEX})
    assert (result.edits, result.notices, result.unchanged) == ([], [], 1)


@pytest.mark.parametrize(
    ("own", "flag", "expected"),
    [
        ("linux/arm64", "", ARM_2),  # its own config says arm64
        ("linux/amd64", "", AMD_2),
        (None, "--platform=linux/arm64 ", ARM_2),  # no platform in its config: the flag's
        ("linux/arm64", "--platform=linux/arm64/v8 ", ARM_2),  # the same, spelled otherwise
        ("linux/arm64", "--platform=$TARGETPLATFORM ", ARM_2),  # a variable says nothing
    ],
)
def test_a_moved_platform_pin_follows_its_own_platform(own: str | None, flag: str, expected: str) -> None:
    lookups = {KEY: NEW_INDEX, **held_image(ARM_1, own), **verified(AMD_2, ARM_2)}
    (edit,) = plan(pinned(ARM_1, flag), lookups).edits
    assert (edit.action, edit.old_digest, edit.new_digest) == (Action.BUMP, ARM_1, expected)
    assert edit.notes == (f"{edit.platform} manifest",)
    assert edit.replacement.endswith(f"@{expected}")


@pytest.mark.parametrize(
    ("own", "flag", "kind", "words"),
    [
        ("linux/amd64", "--platform=linux/arm64 ", NoticeKind.PLATFORM_UNKNOWN, "but the file says linux/arm64"),
        (None, "", NoticeKind.PLATFORM_UNKNOWN, "neither its config nor the file says which platform"),
        ("linux/s390x", "", NoticeKind.PLATFORM_MISSING, "has no linux/s390x manifest (it has: linux/amd64, linux/arm64)"),
    ],
)
def test_a_platform_pin_that_cannot_follow_is_left_alone_with_a_note(
    own: str | None, flag: str, kind: NoticeKind, words: str
) -> None:
    lookups = {KEY: NEW_INDEX, **held_image(ARM_1, own), **verified(AMD_2, ARM_2)}
    result = plan(pinned(ARM_1, flag), lookups)
    assert result.edits == []
    (notice,) = result.notices
    assert notice.kind is kind and words in notice.message


def test_a_platform_manifest_not_verified_is_not_written() -> None:
    lookups = {KEY: NEW_INDEX, **held_image(ARM_1, "linux/arm64"), **verified(AMD_2)}
    result = plan(pinned(ARM_1), lookups)
    assert result.edits == []
    assert [n.kind for n in result.notices] == [NoticeKind.NOT_VERIFIED]
    assert f"{ARM_2} (linux/arm64 manifest) was not verified" in result.notices[0].message


def test_a_pinned_digest_that_could_not_be_read_is_a_failed_lookup() -> None:
    lookups = {KEY: NEW_INDEX, manifest_key(NAME, ARM_1): Lookup(error="registry down")}
    result = plan(pinned(ARM_1), lookups)
    assert result.edits == []
    assert [(n.kind, "registry down" in n.message) for n in result.notices] == [
        (NoticeKind.LOOKUP_FAILED, True)
    ]


def test_a_vanished_pin_follows_the_platform_the_file_names_else_the_index() -> None:
    gone = {manifest_key(NAME, ARM_1): Lookup(error="gone", missing=True)}
    lookups = {KEY: NEW_INDEX, **gone, **verified(AMD_2, ARM_2)}
    (edit,) = plan(pinned(ARM_1, "--platform=linux/arm64 "), lookups).edits
    assert (edit.new_digest, edit.platform) == (ARM_2, "linux/arm64")
    (edit,) = plan(pinned(ARM_1), lookups).edits
    assert (edit.new_digest, edit.platform) == (INDEX_2, None)


def test_an_index_pin_takes_the_tags_digest() -> None:
    as_index = {manifest_key(NAME, INDEX_1): Lookup(INDEX_1, True, kind=ManifestKind.INDEX)}
    (edit,) = plan(pinned(INDEX_1, "--platform=linux/arm64 "), {KEY: NEW_INDEX, **as_index}).edits
    assert (edit.new_digest, edit.platform, edit.notes) == (INDEX_2, None, ())


def test_a_pin_not_read_is_never_guessed_to_be_an_index() -> None:
    result = plan(pinned(ARM_1), {KEY: NEW_INDEX})
    assert result.edits == [] and [n.kind for n in result.notices] == [NoticeKind.NOT_READ]
    # A tag lookup that says nothing about platforms (as before them): the tag's digest.
    (edit,) = plan(pinned(ARM_1), {KEY: Lookup(INDEX_2, verified=True)}).edits
    assert edit.new_digest == INDEX_2


def test_a_tag_now_naming_one_image_for_another_platform_is_not_taken() -> None:
    single = Lookup(AMD_2, True, kind=ManifestKind.IMAGE, platform="linux/amd64")
    result = plan(pinned(ARM_1, "--platform=linux/arm64 "), {KEY: single})
    assert result.edits == []
    assert [n.kind for n in result.notices] == [NoticeKind.PLATFORM_MISSING]
    (edit,) = plan(pinned(ARM_1, "--platform=linux/amd64 "), {KEY: single}).edits
    assert edit.new_digest == AMD_2


def test_a_first_pin_takes_the_index_whatever_the_platform() -> None:
    occurrences = scan_bytes("Dockerfile", f"FROM --platform=linux/arm64 {NAME}:1.0\n".encode()).occurrences
    (edit,) = plan(occurrences, {KEY: NEW_INDEX}).edits
    assert (edit.action, edit.new_digest) == (Action.PIN, INDEX_2)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("linux/arm64", "linux/arm64"),
        ("linux/arm64/v8", "linux/arm64"),
        ("Linux/AArch64", "linux/arm64"),
        ("linux/arm", "linux/arm/v7"),
        ("linux/amd64/v1", "linux/amd64"),
        ("$BUILDPLATFORM", None),
        ("linux", None),
        ("linux/arm64/v8/x", None),
        ("linux/`rm -rf`", None),
        ("linux/amd64\n", "linux/amd64"),
        (None, None),
    ],
)
def test_platforms_are_compared_in_normal_form(text: str | None, expected: str | None) -> None:
    assert normal_platform(text) == expected


# --- pin.platforms ------------------------------------------------------------------------

S390_1, S390_2 = digest("e"), digest("f")


def index(index_digest: str, **children: str) -> Lookup:
    named = tuple(Child(platform.replace("_", "/"), d) for platform, d in children.items())
    return Lookup(index_digest, verified=True, kind=ManifestKind.INDEX, children=named)


def moved(old: Lookup, new: Lookup, pin: PinConfig | None = None, rules: tuple[Rule, ...] = ()):  # type: ignore[no-untyped-def]
    lookups = {KEY: new, manifest_key(NAME, INDEX_1): old}
    return plan(pinned(INDEX_1), lookups, pin or PinConfig(platforms=("linux/amd64", "linux/arm64")), rules=rules)


OLD = index(INDEX_1, linux_amd64=AMD_1, linux_arm64=ARM_1, linux_s390x=S390_1)


def test_an_index_whose_platforms_that_matter_did_not_change_is_not_proposed() -> None:
    result = moved(OLD, index(INDEX_2, linux_amd64=AMD_1, linux_arm64=ARM_1, linux_s390x=S390_2))
    assert result.edits == []
    (notice,) = result.notices
    assert notice.kind is NoticeKind.PLATFORMS_UNCHANGED
    assert notice.message == (
        f"only platforms other than linux/amd64, linux/arm64 changed in {INDEX_2}; not proposed"
    )


@pytest.mark.parametrize(
    ("new", "changed"),
    [
        (index(INDEX_2, linux_amd64=AMD_2, linux_arm64=ARM_1), ("linux/amd64",)),
        (index(INDEX_2, linux_amd64=AMD_2, linux_arm64=ARM_2), ("linux/amd64", "linux/arm64")),
        (index(INDEX_2, linux_amd64=AMD_1), ("linux/arm64",)),  # arm64 dropped is a change
    ],
)
def test_a_proposed_index_says_which_platforms_that_matter_changed(new: Lookup, changed: tuple[str, ...]) -> None:
    (edit,) = moved(OLD, new).edits
    assert (edit.new_digest, edit.changed_platforms) == (INDEX_2, changed)
    assert edit.notes == ("changed for " + ", ".join(changed),)


def test_a_platform_added_counts_and_one_absent_from_both_does_not() -> None:
    old = index(INDEX_1, linux_amd64=AMD_1)
    (edit,) = moved(old, index(INDEX_2, linux_amd64=AMD_1, linux_arm64=ARM_2)).edits
    assert edit.changed_platforms == ("linux/arm64",)
    pin = PinConfig(platforms=("linux/amd64", "windows/amd64"))
    assert moved(old, index(INDEX_2, linux_amd64=AMD_1, linux_arm64=ARM_2), pin).edits == []


def test_a_rules_platforms_win_over_the_global_key() -> None:
    new = index(INDEX_2, linux_amd64=AMD_1, linux_arm64=ARM_1, linux_s390x=S390_2)
    only_s390x = (Rule(images=(f"{NAME}",), platforms=("linux/s390x",)),)
    (edit,) = moved(OLD, new, rules=only_s390x).edits
    assert (edit.changed_platforms, edit.rule) == (("linux/s390x",), only_s390x[0])
    every = (Rule(platforms=()),)  # an empty list in a rule: every platform matters
    (edit,) = moved(OLD, new, rules=every).edits
    assert edit.changed_platforms == () and edit.rule is every[0]
    elsewhere = (Rule(images=("nginx",), platforms=("linux/s390x",)),)
    assert moved(OLD, new, rules=elsewhere).edits == []  # no rule matches: the global key


def test_an_old_pin_that_was_not_read_is_not_proposed() -> None:
    lookups = {KEY: index(INDEX_2, linux_amd64=AMD_1, linux_arm64=ARM_1)}
    result = plan(pinned(INDEX_1), lookups, PinConfig(platforms=("linux/amd64",)))
    assert result.edits == [] and [n.kind for n in result.notices] == [NoticeKind.NOT_READ]
