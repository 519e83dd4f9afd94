"""pinbot.reference follows the distribution grammar: the cases upstream is known by, properties,
and what a registry or a socket would refuse later (ports, IPv6 literals, digest algorithms)."""

from __future__ import annotations

import doctest
import ipaddress
import re
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import pinbot.reference
from pinbot.reference import (
    ImageReference,
    InvalidReference,
    is_valid_digest,
    is_valid_domain,
    is_valid_tag,
    parse,
    parse_normalized,
    validate_digest,
    validate_tag,
)

F64 = "f" * 64
SHA = "sha256:" + F64
SHA512 = "sha512:" + "e" * 128


def test_docstring_examples_hold() -> None:
    result = doctest.testmod(pinbot.reference)
    assert result.attempted > 10
    assert result.failed == 0


# --- parse: exact, no defaults --------------------------------------------------------

# (input, domain, path, tag, digest)
PARSE_VALID: list[tuple[str, str, str, str | None, str | None]] = [
    ("test_com", "", "test_com", None, None),
    ("test.com:tag", "", "test.com", "tag", None),
    ("test.com:5000", "", "test.com", "5000", None),  # a lone host:port is name:tag
    ("test.com/repo:tag", "test.com", "repo", "tag", None),
    ("test:5000/repo", "test:5000", "repo", None, None),
    ("test:5000/repo:tag", "test:5000", "repo", "tag", None),
    (f"test:5000/repo@{SHA}", "test:5000", "repo", None, SHA),
    (f"test:5000/repo:tag@{SHA}", "test:5000", "repo", "tag", SHA),
    ("lowercase:Uppercase", "", "lowercase", "Uppercase", None),
    ("a/" * 127 + "a:tag-puts-this-over-max", "a", "a/" * 126 + "a", "tag-puts-this-over-max", None),
    ("sub-dom1.foo.com/bar/baz/quux", "sub-dom1.foo.com", "bar/baz/quux", None, None),
    ("sub-dom1.foo.com/bar/baz/quux:some-long-tag", "sub-dom1.foo.com", "bar/baz/quux", "some-long-tag", None),
    ("b.gcr.io/test.example.com/my-app:test.example.com", "b.gcr.io", "test.example.com/my-app", "test.example.com", None),
    ("xn--n3h.com/myimage:xn--n3h.com", "xn--n3h.com", "myimage", "xn--n3h.com", None),
    (f"xn--7o8h.com/myimage:xn--7o8h.com@{SHA}", "xn--7o8h.com", "myimage", "xn--7o8h.com", SHA),
    ("foo_bar.com:8080", "", "foo_bar.com", "8080", None),
    ("foo/foo_bar.com:8080", "foo", "foo_bar.com", "8080", None),  # any host-like first part is a domain
    ("192.168.1.1", "", "192.168.1.1", None, None),
    ("192.168.1.1:tag", "", "192.168.1.1", "tag", None),
    ("192.168.1.1:5000", "", "192.168.1.1", "5000", None),
    ("192.168.1.1/repo", "192.168.1.1", "repo", None, None),
    ("192.168.1.1:5000/repo", "192.168.1.1:5000", "repo", None, None),
    ("192.168.1.1:5000/repo:5050", "192.168.1.1:5000", "repo", "5050", None),
    ("[2001:db8::1]/repo", "[2001:db8::1]", "repo", None, None),
    ("[2001:db8:1:2:3:4:5:6]/repo:tag", "[2001:db8:1:2:3:4:5:6]", "repo", "tag", None),
    ("[2001:db8::1]:5000/repo", "[2001:db8::1]:5000", "repo", None, None),
    ("[2001:db8::1]:5000/repo:tag", "[2001:db8::1]:5000", "repo", "tag", None),
    (f"[2001:db8::1]:5000/repo@{SHA}", "[2001:db8::1]:5000", "repo", None, SHA),
    (f"[2001:db8::1]:5000/repo:tag@{SHA}", "[2001:db8::1]:5000", "repo", "tag", SHA),
    ("[2001:db8::]:5000/repo", "[2001:db8::]:5000", "repo", None, None),
    ("[::1]:5000/repo", "[::1]:5000", "repo", None, None),
    ("example.com/" + "a" * 255 + ":tag", "example.com", "a" * 255, "tag", None),  # domain not counted
    ("localhost:8080/name", "localhost:8080", "name", None, None),
    (f"localhost@{SHA}", "", "localhost", None, SHA),
    ("Uppercase/lowercase:tag", "Uppercase", "lowercase", "tag", None),  # upper-case domain
    ("Asdf.com/foo/bar", "Asdf.com", "foo/bar", None, None),
    ("registry.io/foo/project--id.module--name.ver---sion--name", "registry.io", "foo/project--id.module--name.ver---sion--name", None, None),
    ("example.com/some_separator__underscore/myimage", "example.com", "some_separator__underscore/myimage", None, None),
    ("do__cker/docker", "", "do__cker/docker", None, None),  # "_" is no host character
    ("aa-a/a", "aa-a", "a", None, None),
    ("a/" * 128 + "a", "a", "a/" * 127 + "a", None, None),
    (f"validname@{SHA512}", "", "validname", None, SHA512),
    (f"validname@sha384:{'c' * 96}", "", "validname", None, "sha384:" + "c" * 96),
    ("repo:" + "t" * 128, "", "repo", "t" * 128, None),
    ("repo:_under", "", "repo", "_under", None),
    ("192.168.1.1:65535/repo", "192.168.1.1:65535", "repo", None, None),
    ("localhost:1/repo", "localhost:1", "repo", None, None),
    ("[::ffff:c000:280]:5000/repo", "[::ffff:c000:280]:5000", "repo", None, None),
]


@pytest.mark.parametrize(("text", "domain", "path", "tag", "digest"), PARSE_VALID)
def test_valid_references_parse_into_their_parts(text: str, domain: str, path: str, tag: str | None, digest: str | None) -> None:
    ref = parse(text)
    assert (ref.domain, ref.path, ref.tag, ref.digest) == (domain, path, tag, digest)
    assert ref.name == (f"{domain}/{path}" if domain else path)
    assert ref.repository == ref.name
    assert str(ref) == text


# (input, words the error message must contain)
PARSE_INVALID: list[tuple[str, str]] = [
    ("", "at least one component"),
    (":justtag", "invalid reference format"),
    (f"@{SHA}", "invalid reference format"),
    ("repo@sha256:" + "f" * 34, "64 hex digits, not 34"),
    ("repo@sha512:" + "f" * 64, "128 hex digits, not 64"),
    ("repo@sha256:" + "F" * 64, "lowercase hex"),
    ("repo@sha256:" + "f" * 31, "invalid digest"),
    ("repo@sha256:badbadbadbad", "invalid digest"),
    ("repo@bad", "invalid digest"),
    ("repo@2bad:" + F64, "invalid digest"),
    ("Uppercase:tag", "repository name must be lowercase"),
    ("test:5000/Uppercase/lowercase:tag", "repository name must be lowercase"),
    ("foo/Bar", "repository name must be lowercase"),
    ("domain/" + "a" * 256 + ":tag", "not be more than 255 characters"),
    ("aa/asdf$$^/aa", "invalid reference format"),
    ("asdf$$^/aa", "invalid reference format"),
    ("a^a", "invalid reference format"),
    ("[2001:db8::1]", "invalid reference format"),
    ("[2001:db8::1]:5000", "invalid reference format"),
    ("[2001:db8::1]:tag", "invalid reference format"),
    ("[fe80::1%eth0]:5000/repo", "invalid reference format"),
    ("[fe80::1%@invalidzone]:5000/repo", "invalid"),
    ("[fd00:1:2::3]75050/repo", "invalid reference format"),
    ("[fd00:1:2::3]::75050/repo", "invalid reference format"),
    ("fd00:1:2::3:75050/repo", "invalid reference format"),
    ("foo.com:http/bar", "invalid reference format"),
    ("foo.com/", "invalid reference format"),
    ("a/a/a/a/", "invalid reference format"),
    ("a//a/a", "invalid reference format"),
    ("a-/a/a/a", "invalid reference format"),
    ("foo.com/a-/a/a", "invalid reference format"),
    ("-foo/bar", "invalid reference format"),
    ("foo/bar-", "invalid reference format"),
    ("foo/-bar", "invalid reference format"),
    ("_foo/bar", "invalid reference format"),
    ("____/____", "invalid reference format"),
    ("docker_/docker_", "invalid reference format"),
    ("example.com/__underscore/myimage", "invalid reference format"),
    ("example.com/..dots/myimage", "invalid reference format"),
    ("example.com/.dots/myimage", "invalid reference format"),
    ("example.com/nodouble..dots/myimage", "invalid reference format"),
    ("docker./docker", "invalid reference format"),
    ("do__cker:8080/docker", "invalid reference format"),
    ("foo_bar.com:8080/app", "invalid reference format"),
    ("bad_hostname.com:8080/myapp:tag", "invalid reference format"),
    ("registry.com:8080/myapp:invalid~tag", "invalid tag"),
    ("repo:-dash", "invalid tag"),
    ("repo:.dot", "invalid tag"),
    ("repo:", "invalid tag"),
    ("repo:" + "t" * 129, "invalid tag"),
    ("repo@", "invalid digest"),
    ("https://github.com/docker/docker", "invalid"),
    ("naïve/app", "invalid reference format"),
    ("repo:t\u00e9g", "invalid tag"),  # tags are ASCII word characters only
    ("repo\n", "invalid"),
    # Beyond the grammar: what distribution or a socket would refuse later.
    ("192.168.1.1:750050/repo", "port must be between 1 and 65535, not 750050"),
    ("127.0.0.1:99999/x:1", "port must be between 1 and 65535, not 99999"),
    ("localhost:65536/x", "port must be between 1 and 65535, not 65536"),
    ("localhost:0/x", "port must be between 1 and 65535, not 0"),
    ("[:::::]:5000/x:1", "[:::::] is not a valid IPv6 address"),
    ("[1:2:3:4:5:6:7:8:9]/x", "is not a valid IPv6 address"),
    ("[::1::2]:5000/x", "is not a valid IPv6 address"),
    ("[12345::1]/x", "is not a valid IPv6 address"),
    ("[::1]:70000/x", "port must be between 1 and 65535"),
    ("validname@invaliddigest:" + F64, "digest algorithm 'invaliddigest' is not one registries know"),
    ("repo@sha256+b64u.x-y_z:" + "A" * 32, "is not one registries know"),
    ("repo@md5:" + "f" * 32, "digest algorithm 'md5' is not one registries know"),
]


@pytest.mark.parametrize(("text", "reason"), PARSE_INVALID)
def test_invalid_references_are_refused_quoting_the_reason(text: str, reason: str) -> None:
    with pytest.raises(InvalidReference) as caught:
        parse(text)
    message = str(caught.value)
    assert message.startswith(f'invalid reference "{text}": ')
    assert reason in message
    assert caught.value.text == text
    assert isinstance(caught.value, ValueError)


def test_error_message_quotes_input_and_reason() -> None:
    with pytest.raises(InvalidReference) as caught:
        parse("test:5000/Foo/bar:1")
    assert str(caught.value) == 'invalid reference "test:5000/Foo/bar:1": repository name must be lowercase'
    assert caught.value.reason == "repository name must be lowercase"


# --- parse_normalized: Docker defaults -------------------------------------------------

# (input, canonical string, familiar string, domain, path)
NORMALIZED: list[tuple[str, str, str, str, str]] = [
    ("localhost/fooo", "localhost/fooo", "localhost/fooo", "localhost", "fooo"),
    ("localhost/fooo/bar", "localhost/fooo/bar", "localhost/fooo/bar", "localhost", "fooo/bar"),
    ("LOCALDOMAIN/fooo", "LOCALDOMAIN/fooo", "LOCALDOMAIN/fooo", "LOCALDOMAIN", "fooo"),
    ("LOCALDOMAIN/fooo/bar", "LOCALDOMAIN/fooo/bar", "LOCALDOMAIN/fooo/bar", "LOCALDOMAIN", "fooo/bar"),
    ("fooo/bar", "docker.io/fooo/bar", "fooo/bar", "docker.io", "fooo/bar"),
    ("docker.io/fooo/bar", "docker.io/fooo/bar", "fooo/bar", "docker.io", "fooo/bar"),
    ("index.docker.io/fooo/bar", "docker.io/fooo/bar", "fooo/bar", "docker.io", "fooo/bar"),
    ("ubuntu", "docker.io/library/ubuntu", "ubuntu", "docker.io", "library/ubuntu"),
    ("library/ubuntu", "docker.io/library/ubuntu", "ubuntu", "docker.io", "library/ubuntu"),
    ("docker.io/library/ubuntu", "docker.io/library/ubuntu", "ubuntu", "docker.io", "library/ubuntu"),
    ("nonlibrary/ubuntu", "docker.io/nonlibrary/ubuntu", "nonlibrary/ubuntu", "docker.io", "nonlibrary/ubuntu"),
    ("other/library", "docker.io/other/library", "other/library", "docker.io", "other/library"),
    ("127.0.0.1:8000/private/moonbase", "127.0.0.1:8000/private/moonbase", "127.0.0.1:8000/private/moonbase", "127.0.0.1:8000", "private/moonbase"),
    ("127.0.0.1:8000/privatebase", "127.0.0.1:8000/privatebase", "127.0.0.1:8000/privatebase", "127.0.0.1:8000", "privatebase"),
    ("example.com/private/moonbase", "example.com/private/moonbase", "example.com/private/moonbase", "example.com", "private/moonbase"),
    ("example.com/privatebase", "example.com/privatebase", "example.com/privatebase", "example.com", "privatebase"),
    ("example.com:8000/privatebasee", "example.com:8000/privatebasee", "example.com:8000/privatebasee", "example.com:8000", "privatebasee"),
    ("ubuntu-12.04-base", "docker.io/library/ubuntu-12.04-base", "ubuntu-12.04-base", "docker.io", "library/ubuntu-12.04-base"),
    ("index.docker.io/library/ubuntu-12.04-base", "docker.io/library/ubuntu-12.04-base", "ubuntu-12.04-base", "docker.io", "library/ubuntu-12.04-base"),
    ("docker.io/foo", "docker.io/library/foo", "foo", "docker.io", "library/foo"),
    ("index.docker.io/foo", "docker.io/library/foo", "foo", "docker.io", "library/foo"),
    ("library/foo/bar", "docker.io/library/foo/bar", "library/foo/bar", "docker.io", "library/foo/bar"),
    ("store/foo/bar", "docker.io/store/foo/bar", "store/foo/bar", "docker.io", "store/foo/bar"),
    ("Foo/bar", "Foo/bar", "Foo/bar", "Foo", "bar"),
    ("FOO/bar", "FOO/bar", "FOO/bar", "FOO", "bar"),
    ("test_com/foo", "docker.io/test_com/foo", "test_com/foo", "docker.io", "test_com/foo"),
    ("docker/migrator", "docker.io/docker/migrator", "docker/migrator", "docker.io", "docker/migrator"),
    ("test-com:8080/foo", "test-com:8080/foo", "test-com:8080/foo", "test-com:8080", "foo"),
    ("xn--n3h.com:18080/foo", "xn--n3h.com:18080/foo", "xn--n3h.com:18080/foo", "xn--n3h.com:18080", "foo"),
    ("[fc00::1]:5000/docker/docker", "[fc00::1]:5000/docker/docker", "[fc00::1]:5000/docker/docker", "[fc00::1]:5000", "docker/docker"),
    ("myreg:5000/x/y@" + SHA, "myreg:5000/x/y@" + SHA, "myreg:5000/x/y@" + SHA, "myreg:5000", "x/y"),
    ("nginx:1.27", "docker.io/library/nginx:1.27", "nginx:1.27", "docker.io", "library/nginx"),
    ("busybox:latest@" + SHA, "docker.io/library/busybox:latest@" + SHA, "busybox:latest@" + SHA, "docker.io", "library/busybox"),
    ("redis@" + SHA, "docker.io/library/redis@" + SHA, "redis@" + SHA, "docker.io", "library/redis"),
    ("dmcgowan/myapp:latest", "docker.io/dmcgowan/myapp:latest", "dmcgowan/myapp:latest", "docker.io", "dmcgowan/myapp"),
    # A single component is never a domain, however host-like it looks.
    ("localhost", "docker.io/library/localhost", "localhost", "docker.io", "library/localhost"),
    ("example.com", "docker.io/library/example.com", "example.com", "docker.io", "library/example.com"),
    ("example.com:5000", "docker.io/library/example.com:5000", "example.com:5000", "docker.io", "library/example.com"),
    # 64 hex characters are fine after a domain: then they cannot be an image ID.
    ("docker.io/" + "1a3f" * 16, "docker.io/library/" + "1a3f" * 16, "1a3f" * 16, "docker.io", "library/" + "1a3f" * 16),
    ("dbcc1", "docker.io/library/dbcc1", "dbcc1", "docker.io", "library/dbcc1"),
    ("a" * 63, "docker.io/library/" + "a" * 63, "a" * 63, "docker.io", "library/" + "a" * 63),
]


@pytest.mark.parametrize(("text", "canonical", "familiar", "domain", "path"), NORMALIZED)
def test_normalizing_fills_in_docker_hub_defaults(text: str, canonical: str, familiar: str, domain: str, path: str) -> None:
    ref = parse_normalized(text)
    assert str(ref) == canonical
    assert ref.familiar() == familiar
    assert (ref.domain, ref.path) == (domain, path)
    # Every spelling of the same reference normalises to the same value.
    assert parse_normalized(canonical) == ref
    assert parse(canonical) == ref
    if re.fullmatch(r"[a-f0-9]{64}", familiar):
        # Upstream's familiar form of such a name reads back as an image ID.
        with pytest.raises(InvalidReference, match="image ID"):
            parse_normalized(familiar)
    else:
        assert parse_normalized(familiar) == ref


NORMALIZED_INVALID: list[tuple[str, str]] = [
    ("", "at least one component"),
    ("https://github.com/docker/docker", "invalid"),
    ("docker/Docker", "repository name must be lowercase"),
    ("docker.io/docker/Docker", "repository name must be lowercase"),
    ("Ubuntu:22.04", "repository name must be lowercase"),
    ("-docker", "invalid reference format"),
    ("-docker/docker", "invalid reference format"),
    ("-docker.io/docker/docker", "invalid reference format"),
    ("docker-/docker", "invalid reference format"),
    ("-docker-/docker", "invalid reference format"),
    ("docker///docker", "invalid reference format"),
    ("docker.io/docker///docker", "invalid reference format"),
    ("dock..er/docker", "invalid reference format"),
    ("dock_.er/docker", "invalid reference format"),
    ("dock-.er/docker", "invalid reference format"),
    ("____/____", "invalid reference format"),
    ("_docker/_docker", "invalid reference format"),
    ("docker/", "invalid reference format"),
    ("[fc00::1]", "invalid"),
    ("[fc00::1]:5000", "invalid"),
    ("fc00::1:5000/debian", "invalid reference format"),
    ("[fe80::1%eth0]:5000/debian", "invalid reference format"),
    ("[2001:db8:3:4::192.0.2.33]:5000/debian", "invalid reference format"),
    ("1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a", "image ID"),
    ("this_is_not_a_valid_namespace_because_its_lenth_is_greater_than_255" * 4 + "/docker", "255"),
    ("a" * 248, "255"),  # "library/" counts towards the limit
    ("nginx@sha256:" + "0" * 63, "64 hex digits"),
    ("127.0.0.1:99999/x:1", "port must be between 1 and 65535"),
    ("[:::::]:5000/x:1", "is not a valid IPv6 address"),
    ("nginx@invaliddigest:" + F64, "is not one registries know"),
]


@pytest.mark.parametrize(("text", "reason"), NORMALIZED_INVALID)
def test_normalizing_refuses_invalid_references(text: str, reason: str) -> None:
    with pytest.raises(InvalidReference) as caught:
        parse_normalized(text)
    assert str(caught.value).startswith(f'invalid reference "{text}": ')
    assert reason in str(caught.value)


VALID_REPOSITORY_NAMES = [
    "docker/docker",
    "library/debian",
    "debian",
    "localhost/library/debian",
    "LOCALDOMAIN/library/debian",
    "docker.io/docker/docker",
    "index.docker.io/debian",
    "127.0.0.1:5000/library/debian",
    "192.168.0.1",
    "192.168.0.1:80",
    "192.168.0.1:8/debian",
    "thisisthesongthatneverendsitgoesonandonandonthisisthesongthatnev",
    "[fc00:1:2:3:4:5:6:7]:5000/library/debian",
    "Docker/docker",
    "DOCKER/docker",
    "docker-rules/docker",
    "docker---rules/docker",
    "d/docker",
    "jess/t",
    "dock__er/docker",
    "a" * 247,
]


@pytest.mark.parametrize("text", VALID_REPOSITORY_NAMES)
def test_normalizing_accepts_valid_repository_names(text: str) -> None:
    ref = parse_normalized(text)
    assert ref.domain
    assert parse(str(ref)) == ref


def test_parse_normalized_does_not_add_default_tag() -> None:
    ref = parse_normalized("busybox")
    assert ref.tag is None
    assert ref.digest is None


# --- familiar form and helpers -------------------------------------------------------


def test_familiar_keeps_nested_library_paths_and_other_registries() -> None:
    assert parse_normalized("docker.io/library/foo/bar:1").familiar() == "library/foo/bar:1"
    assert parse_normalized("gcr.io/library/busybox").familiar() == "gcr.io/library/busybox"
    # Only the canonical Docker Hub domain is shortened; parse() applies no renaming.
    assert parse("index.docker.io/library/busybox").familiar() == "index.docker.io/library/busybox"
    assert parse("busybox:1").familiar() == "busybox:1"


def test_with_and_without_tag_or_digest_make_new_values() -> None:
    ref = parse("test.com:8000/foo")
    assert str(ref.with_tag("TAG5")) == "test.com:8000/foo:TAG5"
    pinned = ref.with_tag("1").with_digest(SHA)
    assert str(pinned) == f"test.com:8000/foo:1@{SHA}"
    assert str(pinned.with_tag("2")) == f"test.com:8000/foo:2@{SHA}"
    assert str(pinned.without_digest()) == "test.com:8000/foo:1"
    assert str(pinned.without_tag()) == f"test.com:8000/foo@{SHA}"
    assert str(pinned.name_only()) == "test.com:8000/foo"
    assert str(parse("foo").with_digest(SHA512)) == f"foo@{SHA512}"
    # The original is untouched: values are immutable.
    assert ref.tag is None and ref.digest is None


@pytest.mark.parametrize("tag", ["-foo", "", ".x", "a" * 129, "a/b", "a:b", "a@b"])
def test_with_tag_rejects_bad_tags(tag: str) -> None:
    with pytest.raises(InvalidReference) as caught:
        parse_normalized("busybox").with_tag(tag)
    assert str(caught.value).startswith(f'invalid tag "{tag}"')
    assert not is_valid_tag(tag)


@pytest.mark.parametrize(
    "digest",
    ["foo", "sha256:" + "f" * 63, "sha256:" + "f" * 65, "sha512:" + F64, "sha256:" + "A" * 64, "sha256:xyz"],
)
def test_with_digest_rejects_bad_digests(digest: str) -> None:
    with pytest.raises(InvalidReference) as caught:
        parse_normalized("busybox").with_digest(digest)
    assert str(caught.value).startswith(f'invalid digest "{digest}"')
    assert not is_valid_digest(digest)


def test_validators_return_their_input() -> None:
    assert validate_tag("1.27-alpine") == "1.27-alpine"
    assert validate_digest(SHA) == SHA
    assert validate_digest("sha384:" + "a" * 96) == "sha384:" + "a" * 96
    assert not is_valid_digest("sha384:" + "a" * 64)
    # Distribution refuses algorithms it does not know, however well formed.
    assert not is_valid_digest("blake3:" + "a" * 64)
    assert not is_valid_digest("multihash+base58:" + "A" * 40)
    with pytest.raises(InvalidReference, match="'blake3' is not one registries know"):
        validate_digest("blake3:" + "a" * 64)


@pytest.mark.parametrize(
    ("domain", "valid"),
    [
        ("ghcr.io", True),
        ("127.0.0.1:5000", True),
        ("[::1]:5000", True),
        ("localhost:65535", True),
        ("127.0.0.1:99999", False),
        ("localhost:0", False),
        ("[:::::]:5000", False),
        ("[:::::]", False),
        ("a_b", False),
    ],
)
def test_domain_validity_includes_port_range_and_ipv6(domain: str, valid: bool) -> None:
    # The config's registry hosts are checked with the same rule as references.
    assert is_valid_domain(domain) is valid


def test_references_are_immutable_hashable_and_ordered() -> None:
    a = parse_normalized("nginx:1.27")
    b = parse("docker.io/library/nginx:1.27")
    assert a == b
    assert hash(a) == hash(b)
    assert len({a, b, parse_normalized("nginx:1.28")}) == 2
    with pytest.raises(AttributeError):
        a.tag = "x"  # type: ignore[misc]
    assert repr(a) == "<ImageReference('docker.io/library/nginx:1.27')>"
    refs = [parse("b/x"), parse("a/y:2"), parse("a/y:1"), parse("a/y")]
    assert [str(r) for r in sorted(refs)] == ["a/y", "a/y:1", "a/y:2", "b/x"]


def test_docker_hub_references_go_to_registry_1_and_others_to_their_host() -> None:
    assert parse_normalized("nginx").is_docker_hub
    assert parse_normalized("nginx").registry_host == "registry-1.docker.io"
    assert not parse_normalized("ghcr.io/a/b").is_docker_hub
    assert parse_normalized("ghcr.io/a/b").registry_host == "ghcr.io"
    assert parse_normalized("[::1]:5000/a").registry_host == "[::1]:5000"
    assert str(parse("redis:7").normalized()) == "docker.io/library/redis:7"


# (domain, path, tag, digest, words of the error)
CONSTRUCTOR_INVALID: list[tuple[str, str, str | None, str | None, str]] = [
    ("-bad", "x", None, None, "invalid domain"),
    ("127.0.0.1:99999", "x", None, None, "port must be between 1 and 65535"),
    ("[:::::]:5000", "x", None, None, "not a valid IPv6 address"),
    ("ghcr.io", "x", None, "invaliddigest:" + F64, "is not one registries know"),
    ("ex ample.com", "x", None, None, "invalid domain"),
    ("ghcr.io", "", None, None, "at least one component"),
    ("ghcr.io", "Acme/api", None, None, "must be lowercase"),
    ("ghcr.io", "a" * 256, None, None, "255"),
    ("", "foo/bar", None, None, "would be read as a domain"),
    ("ghcr.io", "x", "", None, "tag"),
    ("ghcr.io", "x", None, "sha256:abc", "digest"),
]


@pytest.mark.parametrize(("domain", "path", "tag", "digest", "reason"), CONSTRUCTOR_INVALID)
def test_the_constructor_refuses_invalid_parts_with_the_reason(
    domain: str, path: str, tag: str | None, digest: str | None, reason: str
) -> None:
    with pytest.raises(InvalidReference) as caught:
        ImageReference(domain, path, tag, digest)
    assert reason in str(caught.value)


def test_constructor_accepts_path_that_parse_keeps_without_domain() -> None:
    ref = ImageReference("", "test_com/foo", "1")
    assert parse(str(ref)) == ref


def test_pathological_input_is_rejected_quickly() -> None:
    texts = [
        "a" * 100_000 + "!",
        "a-" * 50_000 + "!",
        "a." * 50_000 + "/x!",
        "a__" * 30_000 + "A",
        "[" + ":" * 100_000,
        "a/" * 50_000 + ":t@sha256:" + "f" * 10,
    ]
    start = time.perf_counter()
    for text in texts:
        with pytest.raises(InvalidReference):
            parse(text)
        with pytest.raises(InvalidReference):
            parse_normalized(text)
    # Linear work takes well under a second; catastrophic backtracking would take minutes.
    assert time.perf_counter() - start < 10.0


# --- properties -----------------------------------------------------------------------

_alnum = st.text("abcdefghijklmnopqrstuvwxyz0123456789", min_size=1, max_size=6)
_separator = st.sampled_from([".", "_", "__", "-", "--", "---"])


@st.composite
def path_components(draw: st.DrawFn) -> str:
    text = draw(_alnum)
    for _ in range(draw(st.integers(0, 3))):
        text += draw(_separator) + draw(_alnum)
    return text


@st.composite
def domains(draw: st.DrawFn) -> str:
    label = st.from_regex(r"[a-zA-Z0-9]([a-zA-Z0-9-]{0,6}[a-zA-Z0-9])?", fullmatch=True)
    kind = draw(st.sampled_from(["name", "ipv4", "ipv6", "localhost"]))
    if kind == "name":
        host = ".".join(draw(st.lists(label, min_size=1, max_size=4)))
    elif kind == "ipv4":
        host = ".".join(str(draw(st.integers(0, 255))) for _ in range(4))
    elif kind == "ipv6":
        # Normalisation reads a first component as a host only if it has "." or ":".
        host = "[" + draw(_ipv6_addresses) + "]"
    else:
        host = "localhost"
    if draw(st.booleans()):
        host += f":{draw(st.integers(1, 65535))}"
    return host


# The grammar takes no embedded IPv4 part (some Pythons print mapped addresses that way).
_ipv6_addresses = st.ip_addresses(v=6).map(str).filter(lambda text: "." not in text)
_tags = st.from_regex(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,20}", fullmatch=True)
_digests = st.one_of(
    st.from_regex(r"sha256:[0-9a-f]{64}", fullmatch=True),
    st.from_regex(r"sha512:[0-9a-f]{128}", fullmatch=True),
    st.from_regex(r"sha384:[0-9a-f]{96}", fullmatch=True),
)


@st.composite
def references(draw: st.DrawFn) -> ImageReference:
    domain = draw(st.one_of(st.just(""), domains()))
    components = draw(st.lists(path_components(), min_size=1, max_size=4))
    if not domain:
        # Without a domain, parse() would take a host-like first component as one.
        components = components[:1]
    return ImageReference(
        domain,
        "/".join(components),
        draw(st.one_of(st.none(), _tags)),
        draw(st.one_of(st.none(), _digests)),
    )


@pytest.mark.slow
@settings(max_examples=200, deadline=None)
@given(references())
def test_any_reference_prints_and_parses_back_to_itself(ref: ImageReference) -> None:
    text = str(ref)
    assert str(parse(text)) == text
    assert parse(text) == ref


@pytest.mark.slow
@settings(max_examples=200, deadline=None)
@given(references())
def test_normalizing_is_idempotent_and_familiar_round_trips(ref: ImageReference) -> None:
    normalized = parse_normalized(str(ref))
    assert normalized.domain
    assert parse_normalized(str(normalized)) == normalized
    if not re.fullmatch(r"[a-f0-9]{64}", normalized.familiar()):
        assert parse_normalized(normalized.familiar()) == normalized
    assert (normalized.tag, normalized.digest) == (ref.tag, ref.digest)


def _is_ipv6(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return ":" in text


def _domain_is_usable(domain: str) -> bool:
    """What a socket would accept: a port from 1 to 65535 and a real IPv6 address."""
    if domain.startswith("["):
        host, _, port = domain[1:].partition("]")
        if not _is_ipv6(host):
            return False
        port = port.removeprefix(":")
    else:
        port = domain.partition(":")[2]
    return not port or 1 <= int(port) <= 65535


# An independent transcription of upstream's anchored patterns, used as an oracle
# for the hand-written splitter in parse().
_ORACLE_DOMAIN = (
    r"(?:(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
    r"(?:\.(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]))*|\[[a-fA-F0-9:]+\])(?::[0-9]+)?"
)
_ORACLE_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*"
_ORACLE_REMOTE = rf"{_ORACLE_COMPONENT}(?:/{_ORACLE_COMPONENT})*"
_ORACLE_REFERENCE = re.compile(
    rf"((?:{_ORACLE_DOMAIN}/)?{_ORACLE_REMOTE})(?::([\w][\w.-]{{0,127}}))?"
    r"(?:@([A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*[:][0-9a-fA-F]{32,}))?",
    re.ASCII,
)
_ORACLE_NAME = re.compile(rf"(?:({_ORACLE_DOMAIN})/)?({_ORACLE_REMOTE})", re.ASCII)


def _oracle(text: str) -> tuple[str, str, str | None, str | None] | None:
    match = _ORACLE_REFERENCE.fullmatch(text)
    if match is None:
        return None
    name, tag, digest = match.groups()
    name_match = _ORACLE_NAME.fullmatch(name)
    assert name_match is not None
    domain, path = name_match.group(1) or "", name_match.group(2)
    if len(path) > 255 or (digest is not None and not is_valid_digest(digest)):
        return None
    if domain and not _domain_is_usable(domain):
        return None
    return domain, path, tag, digest


_fragments = st.sampled_from(
    ["a", "b", "z", "0", "9", "A", "Q", ".", "_", "__", "-", "/", ":", "@", "[", "]", "::1",
     "5000", "localhost", "example.com", "sha256:", "f" * 32, "F" * 64, "é", " ", "%"]
)


@pytest.mark.slow
@settings(max_examples=1000, deadline=None)
@given(st.lists(_fragments, max_size=12).map("".join))
def test_parse_agrees_with_upstream_patterns(text: str) -> None:
    expected = _oracle(text)
    try:
        ref = parse(text)
    except InvalidReference:
        assert expected is None
    else:
        assert expected == (ref.domain, ref.path, ref.tag, ref.digest)


@pytest.mark.slow
@settings(max_examples=200, deadline=None)
@given(references())
def test_parse_agrees_with_upstream_patterns_on_valid_input(ref: ImageReference) -> None:
    assert _oracle(str(ref)) == (ref.domain, ref.path, ref.tag, ref.digest)
