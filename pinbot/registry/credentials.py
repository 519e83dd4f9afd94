"""Where registry credentials come from, first match wins.

pinbot's config (names of environment variables), Docker's `config.json` (credential
helpers, the credential store, `auths`), and `GITHUB_TOKEN` for ghcr.io. Secrets never
appear in a repr, a message or a log line; sources are described by where they are.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from pinbot.logs import logger

log = logger(__name__)

#: The key Docker uses for Docker Hub in `config.json` and with credential helpers.
DOCKER_HUB_KEY = "https://index.docker.io/v1/"
DOCKER_HUB_HOSTS = frozenset({"docker.io", "index.docker.io", "registry-1.docker.io"})
#: The username a credential helper returns when its secret is an identity token.
IDENTITY_TOKEN_USERNAME = "<token>"
HELPER_TIMEOUT = 15.0


@dataclass(frozen=True)
class Credential:
    """A username and password, or an identity (refresh) token, and where it came from."""

    source: str
    username: str | None = field(default=None, repr=False)
    password: str | None = field(default=None, repr=False)
    identity_token: str | None = field(default=None, repr=False)

    def __str__(self) -> str:
        return f"credentials from {self.source}"


@dataclass(frozen=True)
class CredentialLookup:
    """The credential found for a registry (or None) and every source consulted."""

    credential: Credential | None
    tried: tuple[str, ...]


@dataclass(frozen=True)
class EnvCredentialNames:
    """The environment variable names pinbot's config gives for one registry."""

    username_env: str | None = None
    password_env: str | None = None
    token_env: str | None = None


def docker_config_key(host: str) -> str:
    """The key Docker files a registry's credentials under."""
    return DOCKER_HUB_KEY if host.lower() in DOCKER_HUB_HOSTS else host


def _key_host(key: str) -> str:
    """The registry host of a `config.json` key: `https://host/v1/` and `host` both mean host."""
    text = key.strip().lower()
    for prefix in ("https://", "http://"):
        if text.startswith(prefix):
            text = text[len(prefix) :]
    return text.split("/", 1)[0]


def _same_registry(key: str, host: str) -> bool:
    key_host = _key_host(key)
    wanted = host.lower()
    if wanted in DOCKER_HUB_HOSTS:
        return key_host in DOCKER_HUB_HOSTS
    return key_host == wanted


class CredentialFinder:
    """Looks up credentials for a registry host in the configured sources, in order."""

    def __init__(
        self,
        *,
        env_names: Mapping[str, EnvCredentialNames] | None = None,
        docker_config_dir: Path | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        self._env_names = dict(env_names or {})
        self._environ = environ if environ is not None else os.environ
        if docker_config_dir is None:
            configured = self._environ.get("DOCKER_CONFIG")
            docker_config_dir = Path(configured) if configured else Path.home() / ".docker"
        self.docker_config_path = docker_config_dir / "config.json"

    def __repr__(self) -> str:
        return f"<CredentialFinder docker_config={self.docker_config_path}>"

    def find(self, host: str, names: EnvCredentialNames | None = None) -> CredentialLookup:
        """The first credential for `host`, and a description of each source consulted."""
        tried: list[str] = []
        names = names or self._env_names.get(host)
        for source in (self._from_pinbot_config, self._from_docker_config, self._from_github_token):
            credential = source(host, names, tried)
            if credential is not None:
                return CredentialLookup(credential, tuple(tried))
        return CredentialLookup(None, tuple(tried))

    def _from_pinbot_config(
        self, host: str, names: EnvCredentialNames | None, tried: list[str]
    ) -> Credential | None:
        if names is None:
            return None
        env = self._environ
        if names.token_env:
            where = f"pinbot config (${names.token_env})"
            tried.append(where)
            token = env.get(names.token_env)
            if token:
                user = env.get(names.username_env, "") if names.username_env else ""
                return Credential(where, username=user or "pinbot", password=token)
        if names.username_env or names.password_env:
            where = f"pinbot config (${names.username_env}/${names.password_env})"
            tried.append(where)
            login = env.get(names.username_env or "")
            password = env.get(names.password_env or "")
            if login and password:
                return Credential(where, username=login, password=password)
        return None

    def _from_docker_config(
        self, host: str, names: EnvCredentialNames | None, tried: list[str]
    ) -> Credential | None:
        path = self.docker_config_path
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            tried.append(f"docker config {path} (unreadable: {type(exc).__name__})")
            return None
        if not isinstance(document, dict):
            tried.append(f"docker config {path} (not a JSON object)")
            return None
        helpers = document.get("credHelpers")
        if isinstance(helpers, dict):
            for key, helper in helpers.items():
                if isinstance(helper, str) and helper and _same_registry(key, host):
                    credential = self._from_helper(helper, key, tried)
                    if credential is not None:
                        return credential
                    break
        store = document.get("credsStore")
        if isinstance(store, str) and store:
            credential = self._from_helper(store, docker_config_key(host), tried)
            if credential is not None:
                return credential
        auths = document.get("auths")
        where = f"docker config {path} (auths)"
        tried.append(where)
        if isinstance(auths, dict):
            for key, entry in auths.items():
                if isinstance(entry, dict) and _same_registry(key, host):
                    credential = _from_auth_entry(entry, where)
                    if credential is not None:
                        return credential
        return None

    def _from_helper(self, helper: str, server: str, tried: list[str]) -> Credential | None:
        program = f"docker-credential-{helper}"
        where = f"credential helper {program}"
        try:
            done = subprocess.run(
                [program, "get"],
                input=server.encode(),
                capture_output=True,
                timeout=HELPER_TIMEOUT,
                check=False,
                env=dict(self._environ),
            )
        except FileNotFoundError:
            tried.append(f"{where} (not on PATH)")
            return None
        except (OSError, subprocess.TimeoutExpired) as exc:
            tried.append(f"{where} (failed: {type(exc).__name__})")
            return None
        if done.returncode != 0:
            # Helpers say "credentials not found" on stdout; other output is not repeated
            # because a broken helper might echo what it was given.
            tried.append(f"{where} (no credentials, exit {done.returncode})")
            return None
        tried.append(where)
        try:
            answer = json.loads(done.stdout)
        except ValueError:
            tried[-1] = f"{where} (unreadable answer)"
            return None
        if not isinstance(answer, dict):
            return None
        username = answer.get("Username")
        secret = answer.get("Secret")
        if not isinstance(secret, str) or not secret:
            return None
        if username == IDENTITY_TOKEN_USERNAME:
            return Credential(where, username=None, identity_token=secret)
        return Credential(where, username=str(username or ""), password=secret)

    def _from_github_token(
        self, host: str, names: EnvCredentialNames | None, tried: list[str]
    ) -> Credential | None:
        if host.lower() != "ghcr.io":
            return None
        tried.append("$GITHUB_TOKEN")
        token = self._environ.get("GITHUB_TOKEN")
        if not token:
            return None
        # ghcr.io accepts any username with a token; the actor is the honest one when known.
        user = self._environ.get("GITHUB_ACTOR") or "pinbot"
        return Credential("$GITHUB_TOKEN", username=user, password=token)


def _from_auth_entry(entry: Mapping[str, object], where: str) -> Credential | None:
    identity = entry.get("identitytoken")
    if isinstance(identity, str) and identity:
        username = entry.get("username")
        return Credential(
            where,
            username=username if isinstance(username, str) and username else None,
            identity_token=identity,
        )
    encoded = entry.get("auth")
    if isinstance(encoded, str) and encoded:
        try:
            decoded = base64.b64decode(encoded, validate=False).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return None
        username, sep, password = decoded.partition(":")
        if sep and password:
            return Credential(where, username=username, password=password)
        return None
    login = entry.get("username")
    secret = entry.get("password")
    if isinstance(login, str) and isinstance(secret, str) and secret:
        return Credential(where, username=login, password=secret)
    return None
