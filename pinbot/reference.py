"""Container image references: the distribution/reference grammar as one value type.

Parses, validates, normalises (``docker.io/library/…``) and spells image references.

The grammar, as Docker and containerd accept it::

    reference        := name [ ":" tag ] [ "@" digest ]
    name             := [ domain "/" ] path
    domain           := host [ ":" port ]              ; port 1 to 65535
    host             := domain-name | "[" ipv6 "]"      ; an address `ipaddress` accepts
    domain-name      := component ( "." component )*   ; letters, digits, inner "-"
    path             := path-component ( "/" path-component )*
    path-component   := [a-z0-9]+ ( separator [a-z0-9]+ )*
    separator        := "." | "_" | "__" | "-"+
    tag              := [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}
    digest           := algorithm ":" hex{32,}          ; sha256, sha384 or sha512, exact length

>>> ref = parse_normalized("ubuntu:22.04")
>>> str(ref)
'docker.io/library/ubuntu:22.04'
>>> ref.familiar()
'ubuntu:22.04'
"""

from __future__ import annotations

import functools
import ipaddress
import re
from dataclasses import dataclass

from pinbot.errors import PinbotError

__all__ = [
    "DEFAULT_DOMAIN",
    "DEFAULT_TAG",
    "DIGEST_HEX_LENGTHS",
    "DOCKER_HUB_REGISTRY",
    "LEGACY_DEFAULT_DOMAIN",
    "OFFICIAL_REPO_PREFIX",
    "PATH_MAX_LENGTH",
    "ImageReference",
    "InvalidReference",
    "is_valid_digest",
    "is_valid_domain",
    "is_valid_tag",
    "parse",
    "parse_normalized",
    "validate_digest",
    "validate_tag",
]

DEFAULT_DOMAIN = "docker.io"
"""The domain a familiar name such as ``ubuntu`` belongs to."""

LEGACY_DEFAULT_DOMAIN = "index.docker.io"
"""The old name of Docker Hub; normalised to :data:`DEFAULT_DOMAIN`."""

DOCKER_HUB_REGISTRY = "registry-1.docker.io"
"""The host that actually serves the registry API for :data:`DEFAULT_DOMAIN`."""

OFFICIAL_REPO_PREFIX = "library/"
"""The Docker Hub namespace of official images (``ubuntu`` is ``library/ubuntu``)."""

DEFAULT_TAG = "latest"
"""The tag a client pulls when a reference names neither tag nor digest."""

PATH_MAX_LENGTH = 255
"""Longest allowed path. Upstream once counted the domain too; it no longer does."""

_LOCALHOST = "localhost"

# Building blocks, kept close to the grammar so each can be checked against it.
_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_DOMAIN_NAME = rf"{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*"
# Bracketed IPv6 only: no zone identifiers, no embedded IPv4.
_IPV6 = r"\[[a-fA-F0-9:]+\]"
_DOMAIN = rf"(?:{_DOMAIN_NAME}|{_IPV6})(?::[0-9]+)?"
_PATH_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_PATH = rf"{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*"
_TAG = r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}"
_DIGEST = r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}"

_DOMAIN_RE = re.compile(_DOMAIN)
_PATH_RE = re.compile(_PATH)
_TAG_RE = re.compile(_TAG)
_DIGEST_RE = re.compile(_DIGEST)
_IDENTIFIER_RE = re.compile(r"[a-f0-9]{64}")

#: Hex lengths of the digest algorithms distribution knows; it refuses every other algorithm.
DIGEST_HEX_LENGTHS = {"sha256": 64, "sha384": 96, "sha512": 128}
_PORT_RANGE = range(1, 65536)
_LOWER_HEX_RE = re.compile(r"[0-9a-f]+")


class InvalidReference(PinbotError, ValueError):
    """An image reference, tag or digest that does not follow the grammar.

    >>> parse("foo/Bar")
    Traceback (most recent call last):
    ...
    pinbot.reference.InvalidReference: invalid reference "foo/Bar": repository name must be lowercase
    """

    def __init__(self, text: str, reason: str, *, kind: str = "reference") -> None:
        self.text = text
        self.reason = reason
        self.kind = kind
        super().__init__(f'invalid {kind} "{text}": {reason}')


def _digest_problem(digest: str) -> str | None:
    """Say what is wrong with ``digest``, or ``None`` when it is valid."""
    if not _DIGEST_RE.fullmatch(digest):
        return "digest must be <algorithm>:<at least 32 hex digits>"
    algorithm, _, encoded = digest.partition(":")
    expected = DIGEST_HEX_LENGTHS.get(algorithm)
    if expected is None:
        known = ", ".join(DIGEST_HEX_LENGTHS)
        return f"digest algorithm {algorithm!r} is not one registries know ({known})"
    if len(encoded) != expected:
        return f"{algorithm} digest must have {expected} hex digits, not {len(encoded)}"
    if not _LOWER_HEX_RE.fullmatch(encoded):
        return f"{algorithm} digest must be lowercase hex"
    return None


def _domain_problem(domain: str) -> str | None:
    """Say what is wrong with ``domain`` (host and optional port), or ``None`` when valid.

    The grammar only shapes a domain; a port must also be one a socket can use and a
    bracketed host an IPv6 address, or the first connection would fail in a confusing way.
    """
    if not _DOMAIN_RE.fullmatch(domain):
        return f"invalid domain {domain!r}"
    host, port = domain, ""
    if domain.startswith("["):
        host, _, rest = domain[1:].partition("]")
        port = rest[1:]
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            return f"[{host}] is not a valid IPv6 address"
    elif ":" in domain:
        host, _, port = domain.partition(":")
    if port and int(port) not in _PORT_RANGE:
        return f"port must be between 1 and 65535, not {port}"
    return None


def _tag_problem(tag: str) -> str | None:
    if _TAG_RE.fullmatch(tag):
        return None
    if len(tag) > 128:
        return f"tag must not be more than 128 characters, not {len(tag)}"
    return "tag must be letters, digits, '_', '.' or '-', not starting with '.' or '-'"


def is_valid_tag(tag: str) -> bool:
    """Tell whether ``tag`` is a valid tag.

    >>> is_valid_tag("1.27-alpine"), is_valid_tag("-rc1")
    (True, False)
    """
    return _tag_problem(tag) is None


def is_valid_domain(domain: str) -> bool:
    """Tell whether ``domain`` is a valid registry host, with optional port.

    >>> is_valid_domain("myreg.example:5000"), is_valid_domain("[::1]:5000"), is_valid_domain("a_b")
    (True, True, False)
    >>> is_valid_domain("myreg.example:99999"), is_valid_domain("[:::::]:5000")
    (False, False)
    """
    return _domain_problem(domain) is None


def is_valid_digest(digest: str) -> bool:
    """Tell whether ``digest`` is a valid digest: sha256, sha384 or sha512 at its length.

    >>> is_valid_digest("sha256:" + "0" * 64), is_valid_digest("sha256:" + "0" * 63)
    (True, False)
    >>> is_valid_digest("md5:" + "0" * 32)
    False
    """
    return _digest_problem(digest) is None


def validate_tag(tag: str) -> str:
    """Return ``tag`` unchanged, or raise :class:`InvalidReference` saying what is wrong."""
    problem = _tag_problem(tag)
    if problem is not None:
        raise InvalidReference(tag, problem, kind="tag")
    return tag


def validate_digest(digest: str) -> str:
    """Return ``digest`` unchanged, or raise :class:`InvalidReference` saying what is wrong."""
    problem = _digest_problem(digest)
    if problem is not None:
        raise InvalidReference(digest, problem, kind="digest")
    return digest


def _path_problem(path: str) -> str | None:
    if not path:
        return "repository name must have at least one component"
    if not _PATH_RE.fullmatch(path):
        if _PATH_RE.fullmatch(path.lower()):
            return "repository name must be lowercase"
        return "invalid reference format"
    if len(path) > PATH_MAX_LENGTH:
        return f"repository name must not be more than {PATH_MAX_LENGTH} characters"
    return None


@functools.total_ordering
@dataclass(frozen=True, repr=False)
class ImageReference:
    """One image reference: ``[domain/]path[:tag][@digest]``.

    Validated on construction, immutable and hashable; ``str()`` gives the canonical
    spelling and :func:`parse` reads it back unchanged.

    >>> ref = ImageReference("ghcr.io", "acme/api", tag="2.3")
    >>> ref
    <ImageReference('ghcr.io/acme/api:2.3')>
    >>> ref.with_digest("sha256:" + "ab" * 32).familiar()[:30]
    'ghcr.io/acme/api:2.3@sha256:ab'
    """

    domain: str
    path: str
    tag: str | None = None
    digest: str | None = None

    def __post_init__(self) -> None:
        text = str(self)
        problem = _domain_problem(self.domain) if self.domain else None
        if problem is not None:
            raise InvalidReference(text, problem)
        problem = _path_problem(self.path)
        if problem is not None:
            raise InvalidReference(text, problem)
        if not self.domain and "/" in self.path:
            first = self.path.partition("/")[0]
            if _DOMAIN_RE.fullmatch(first):
                # parse() would read the first component as the domain: refuse a value
                # whose text means something else.
                raise InvalidReference(
                    text, f"first path component {first!r} would be read as a domain"
                )
        if self.tag is not None:
            problem = _tag_problem(self.tag)
            if problem is not None:
                raise InvalidReference(text, problem)
        if self.digest is not None:
            problem = _digest_problem(self.digest)
            if problem is not None:
                raise InvalidReference(text, problem)

    def __str__(self) -> str:
        return self._spelled(self.name)

    def _spelled(self, name: str) -> str:
        """`name` with this reference's tag and digest."""
        tag = f":{self.tag}" if self.tag is not None else ""
        return name + tag + (f"@{self.digest}" if self.digest is not None else "")

    def __repr__(self) -> str:
        return f"<ImageReference({str(self)!r})>"

    def _sort_key(self) -> tuple[str, str, str, str]:
        return (self.domain, self.path, self.tag or "", self.digest or "")

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, ImageReference):
            return NotImplemented
        return self._sort_key() < other._sort_key()

    @property
    def name(self) -> str:
        """Domain and path, without tag or digest.

        >>> parse_normalized("nginx:1.27").name
        'docker.io/library/nginx'
        """
        return f"{self.domain}/{self.path}" if self.domain else self.path

    @property
    def repository(self) -> str:
        """Same as :attr:`name`: the repository the reference points into."""
        return self.name

    @property
    def is_docker_hub(self) -> bool:
        """Whether the image lives on Docker Hub (``docker.io`` or its legacy name)."""
        return self.domain in (DEFAULT_DOMAIN, LEGACY_DEFAULT_DOMAIN)

    @property
    def registry_host(self) -> str:
        """The host (with port) serving the registry API for this reference.

        >>> parse_normalized("nginx").registry_host
        'registry-1.docker.io'
        >>> parse("localhost:5000/x").registry_host
        'localhost:5000'
        """
        if self.is_docker_hub or not self.domain:
            return DOCKER_HUB_REGISTRY
        return self.domain

    @property
    def familiar_name(self) -> str:
        """The name as the Docker CLI shows it (``docker.io/library/`` dropped).

        >>> parse_normalized("docker.io/library/redis").familiar_name
        'redis'
        >>> parse_normalized("docker.io/library/foo/bar").familiar_name
        'library/foo/bar'
        """
        if self.domain != DEFAULT_DOMAIN:
            return self.name
        path = self.path
        if path.startswith(OFFICIAL_REPO_PREFIX):
            rest = path[len(OFFICIAL_REPO_PREFIX) :]
            # Only official images sit directly under library/; deeper paths keep it.
            if "/" not in rest:
                return rest
        return path

    def familiar(self) -> str:
        """The whole reference as the Docker CLI shows it.

        >>> parse_normalized("myreg:5000/x/y:1").familiar()
        'myreg:5000/x/y:1'
        >>> parse_normalized("docker.io/bitnami/redis:7.2").familiar()
        'bitnami/redis:7.2'
        """
        return self._spelled(self.familiar_name)

    def normalized(self) -> ImageReference:
        """This reference with Docker's defaults applied (see :func:`parse_normalized`).

        >>> str(parse("redis:7").normalized())
        'docker.io/library/redis:7'
        """
        return parse_normalized(str(self))

    def with_tag(self, tag: str) -> ImageReference:
        """A copy with ``tag`` (the digest, if any, is kept)."""
        return ImageReference(self.domain, self.path, validate_tag(tag), self.digest)

    def with_digest(self, digest: str) -> ImageReference:
        """A copy with ``digest`` (the tag, if any, is kept).

        >>> str(parse("nginx:1.27").with_digest("sha256:" + "0" * 64))[:24]
        'nginx:1.27@sha256:000000'
        """
        return ImageReference(self.domain, self.path, self.tag, validate_digest(digest))

    def without_digest(self) -> ImageReference:
        """A copy without the digest."""
        return ImageReference(self.domain, self.path, self.tag, None)

    def without_tag(self) -> ImageReference:
        """A copy without the tag."""
        return ImageReference(self.domain, self.path, None, self.digest)

    def name_only(self) -> ImageReference:
        """A copy with neither tag nor digest."""
        return ImageReference(self.domain, self.path)


def _split_name(name: str) -> tuple[str, str]:
    """Split a name into (domain, path) the way upstream's name pattern does."""
    first, slash, rest = name.partition("/")
    if slash and _DOMAIN_RE.fullmatch(first):
        return first, rest
    return "", name


def _parse(text: str, shown: str) -> ImageReference:
    if not text:
        raise InvalidReference(shown, "repository name must have at least one component")
    # No part before the digest may contain "@", and the digest itself has none.
    remainder, at, digest = text.partition("@")
    # A ":" in the name is a port and is followed by "/" somewhere; a ":" whose
    # remainder has no "/" starts the tag.
    name, tag = remainder, None
    colon = remainder.rfind(":")
    if colon >= 0 and "/" not in remainder[colon + 1 :]:
        name, tag = remainder[:colon], remainder[colon + 1 :]
    if not name:
        raise InvalidReference(shown, "invalid reference format")
    domain, path = _split_name(name)
    problem = _domain_problem(domain) if domain else None
    if problem is not None:
        raise InvalidReference(shown, problem)
    if not _PATH_RE.fullmatch(path):
        if _PATH_RE.fullmatch(_split_name(name.lower())[1]):
            raise InvalidReference(shown, "repository name must be lowercase")
        raise InvalidReference(shown, "invalid reference format")
    if len(path) > PATH_MAX_LENGTH:
        raise InvalidReference(
            shown, f"repository name must not be more than {PATH_MAX_LENGTH} characters"
        )
    if tag is not None and not _TAG_RE.fullmatch(tag):
        raise InvalidReference(shown, "invalid tag format")
    if at:
        problem = _digest_problem(digest)
        if problem is not None:
            raise InvalidReference(shown, f"invalid digest format: {problem}")
    return ImageReference(domain, path, tag, digest if at else None)


def parse(text: str) -> ImageReference:
    """Parse ``text`` exactly as written, applying no defaults.

    A first component that looks like a host name is the domain whenever a ``/``
    follows it, even without a ``.`` or port.

    >>> ref = parse("test:5000/repo:tag")
    >>> ref.domain, ref.path, ref.tag
    ('test:5000', 'repo', 'tag')
    >>> parse("test.com:5000").tag
    '5000'
    >>> parse("busybox").domain
    ''
    """
    return _parse(text, text)


def _split_docker_domain(text: str) -> tuple[str, str]:
    """Split ``text`` into a domain and the rest, with Docker Hub as the default."""
    first, slash, rest = text.partition("/")
    if not slash:
        # A single component is always a Docker Hub official image, even "localhost"
        # or "example.com": otherwise "ubuntu:22.04" would read as host:port.
        return DEFAULT_DOMAIN, OFFICIAL_REPO_PREFIX + text
    if first == _LOCALHOST:
        domain, remote = first, rest
    elif first == LEGACY_DEFAULT_DOMAIN:
        domain, remote = DEFAULT_DOMAIN, rest
    elif "." in first or ":" in first or first.lower() != first:
        # Paths may hold no ".", ":" or capital in their first component, so any of
        # them marks a host.
        domain, remote = first, rest
    else:
        domain, remote = DEFAULT_DOMAIN, text
    if domain == DEFAULT_DOMAIN and "/" not in remote:
        remote = OFFICIAL_REPO_PREFIX + remote
    return domain, remote


def parse_normalized(text: str) -> ImageReference:
    """Parse ``text`` as the Docker CLI does, filling in Docker Hub defaults.

    The result always has a domain. No default tag is added.

    >>> str(parse_normalized("redis"))
    'docker.io/library/redis'
    >>> str(parse_normalized("index.docker.io/bitnami/redis:7"))
    'docker.io/bitnami/redis:7'
    >>> parse_normalized("localhost/app").domain
    'localhost'
    >>> parse_normalized("team/app").domain
    'docker.io'
    """
    if not text:
        raise InvalidReference(text, "repository name must have at least one component")
    if _IDENTIFIER_RE.fullmatch(text):
        raise InvalidReference(
            text, "a 64-character hexadecimal string is an image ID, not a repository name"
        )
    domain, remainder = _split_docker_domain(text)
    remote = remainder.partition("@")[0].partition(":")[0]
    if remote.lower() != remote:
        raise InvalidReference(text, "repository name must be lowercase")
    return _parse(f"{domain}/{remainder}", text)
