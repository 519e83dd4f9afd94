"""`WWW-Authenticate` challenges: parsed with the standard library, grouped by scheme.

`urllib.request.parse_http_list` splits the header at the commas outside quoted strings (and
undoes backslash escapes); what is left is grouping the pieces into challenges, since the
header's grammar uses commas both between challenges and between one challenge's parameters.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from urllib.request import parse_http_list, parse_keqv_list

# RFC 9110: a scheme is a token; token68 is what some schemes send instead of parameters.
_SCHEME = re.compile(r"([!#$%&'*+.^_`|~0-9A-Za-z-]+)(?:[ \t]+(.*))?", re.S)
_TOKEN68 = re.compile(r"[A-Za-z0-9._~+/-]+=*")


@dataclass(frozen=True)
class Challenge:
    """One challenge of a `WWW-Authenticate` header: a scheme and its parameters."""

    scheme: str
    params: Mapping[str, str] = field(default_factory=dict)
    token68: str | None = None

    @property
    def realm(self) -> str | None:
        return self.params.get("realm")

    @property
    def service(self) -> str | None:
        return self.params.get("service")

    @property
    def scope(self) -> str | None:
        return self.params.get("scope")

    @property
    def error(self) -> str | None:
        return self.params.get("error")


def parse_www_authenticate(values: str | Iterable[str]) -> list[Challenge]:
    """Every challenge in one or more `WWW-Authenticate` header values.

    Scheme names are lower-cased, parameter names too; quoted values may hold commas and
    backslash escapes; a parameter given twice keeps its first value.

    >>> parse_www_authenticate('Bearer realm="https://a/token",service="reg",scope="repository:x/y:pull"')[0].scope
    'repository:x/y:pull'
    >>> [c.scheme for c in parse_www_authenticate('Basic realm="a, b", Bearer realm="c"')]
    ['basic', 'bearer']
    """
    if isinstance(values, str):
        values = [values]
    challenges: list[Challenge] = []
    for value in values:
        challenges.extend(_challenges(parse_http_list(value)))
    return challenges


def _challenges(pieces: list[str]) -> list[Challenge]:
    """Group comma-separated pieces: a piece opening with a scheme starts a challenge."""
    found: list[tuple[str, dict[str, str], list[str]]] = []
    for piece in pieces:
        opening = _SCHEME.fullmatch(piece)
        if opening is not None and not (opening.group(2) or "").startswith("="):
            scheme, rest = opening.group(1).lower(), (opening.group(2) or "").strip()
            found.append((scheme, {}, []))
            if rest and _TOKEN68.fullmatch(rest):
                found[-1][2].append(rest)
                continue
            piece = rest
        if not found or "=" not in piece:
            continue  # empty, or a stray word before any scheme
        name, value = _parameter(piece)
        found[-1][1].setdefault(name, value)
    return [
        Challenge(scheme, params, token68[0] if token68 else None)
        for scheme, params, token68 in found
    ]


def _parameter(piece: str) -> tuple[str, str]:
    """`name = "value"` as (name, value): spaces around `=` dropped, quotes removed."""
    name, _, value = piece.partition("=")
    value = value.strip()
    if value.startswith('"') and (len(value) == 1 or not value.endswith('"')):
        value += '"'  # an unterminated quoted string runs to the end of the header
    ((key, unquoted),) = parse_keqv_list([f"{name.strip().lower()}={value}"]).items()
    return key, unquoted


def pick_challenge(challenges: Iterable[Challenge]) -> Challenge | None:
    """The challenge pinbot answers: Bearer when offered (it scopes access), else Basic."""
    usable = [c for c in challenges if c.scheme in ("bearer", "basic")]
    for challenge in usable:
        if challenge.scheme == "bearer" and challenge.realm:
            return challenge
    for challenge in usable:
        if challenge.scheme == "basic":
            return challenge
    return None
