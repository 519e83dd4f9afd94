"""The registry transport: one HTTP exchange with a registry, bounded, counted and retried.

Per registry host a connection pool, a trust store and a concurrency limit; per request a
total deadline and a body cap chosen for its kind (see `limits`); retries on 429/5xx and
connection faults with tenacity's jittered wait, or as long as `Retry-After` asks within the
budget; TLS failures explained; pull quotas read from the registry's own answers.
"""

from __future__ import annotations

import asyncio
import ssl
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from pinbot.errors import PinbotError
from pinbot.logs import logger
from pinbot.registry.budget import LookupBudget, current_budget
from pinbot.registry.errors import (
    RateLimited,
    RegistryError,
    RegistryTLSError,
    RegistryUnavailable,
    ResponseTooLarge,
)
from pinbot.registry.limits import SMALL_BODY_CAP, BodyLimit
from pinbot.registry.quota import QuotaReading, parse_quota
from pinbot.registry.retry import RETRY_STATUSES, RetryPolicy, Transient, parse_retry_after
from pinbot.registry.stats import RequestStats
from pinbot.registry.tls import ssl_context

log = logger(__name__)

USER_AGENT = "pinbot (+https://github.com/pinbot)"


@dataclass(frozen=True)
class Answer:
    """A registry's answer, its body read whole within its cap."""

    status_code: int
    headers: httpx.Headers
    content: bytes = field(repr=False)
    url: str


@dataclass(frozen=True)
class EndpointSettings:
    """How one registry is reached, from pinbot's config."""

    insecure: bool = False
    ca_file: Path | None = None


@dataclass(frozen=True)
class TransportOptions:
    """How every registry is spoken to: timeouts, deadlines, concurrency and trust stores."""

    #: Seconds of silence before a connection or read gives up.
    timeout: float
    #: Seconds one exchange may take in all, from sending to the last byte of the body.
    request_deadline: float
    per_registry_concurrency: int
    certs_d: Path
    environ: Mapping[str, str] | None = None


@dataclass(frozen=True)
class Outgoing:
    """One request to send: what, where, counted as which kind, its body read up to `limit`."""

    method: str
    url: str
    kind: str
    headers: Mapping[str, str]
    data: Mapping[str, str] | None = None
    limit: BodyLimit | None = None

    @property
    def path(self) -> str:
        return urlsplit(self.url).path or "/"


@dataclass
class Endpoint:
    """One registry host: its connection pool, trust and concurrency limit."""

    name: str
    http: httpx.AsyncClient
    base_url: str
    semaphore: asyncio.Semaphore
    insecure: bool

    @property
    def host(self) -> str:
        return urlsplit(self.base_url).netloc

    def url(self, path: str) -> str:
        return self.base_url + path

    def __repr__(self) -> str:
        return f"<registry {self.name} at {self.base_url}>"


class _TooLarge(PinbotError):
    def __init__(self, declared: int | None) -> None:
        super().__init__(declared)
        self.declared = declared


class _Encoded(PinbotError):
    def __init__(self, encoding: str) -> None:
        super().__init__(encoding)
        self.encoding = encoding


def origin(url: str) -> tuple[str, str]:
    """(scheme, host:port) of `url`, ports filled in; a URL with an unusable port is its own."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    netloc = (parts.hostname or "").lower()
    try:
        port = parts.port or (443 if scheme == "https" else 80)
    except ValueError:
        return scheme, parts.netloc
    return scheme, f"{netloc}:{port}"


def loggable(url: str) -> str:
    """The URL without its query (token requests carry scopes there; nothing else)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}"


def _tls_cause(exc: BaseException) -> ssl.SSLError | None:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, ssl.SSLError):
            return current
        current = current.__cause__ or current.__context__
    return None


def _describe_transport(exc: httpx.TransportError, timeout: float) -> str:
    if isinstance(exc, httpx.TimeoutException):
        return f"no answer within {timeout:g} s ({type(exc).__name__})"
    if isinstance(exc, httpx.ConnectError):
        return f"cannot connect ({exc})" if str(exc) else "cannot connect"
    if isinstance(exc, httpx.RemoteProtocolError):
        return "connection dropped before a complete answer"
    return f"connection failed ({type(exc).__name__})"


def _declared_length(headers: httpx.Headers) -> int | None:
    text = headers.get("content-length", "").strip()
    return int(text) if text.isdigit() else None


async def _read_body(response: httpx.Response, limit: BodyLimit | None) -> bytes:
    """The body of `response`, never more than its cap in memory.

    A successful answer bigger than `limit` is refused (from its `Content-Length` before a
    byte is read, else as soon as it passes the cap); other answers are cut at a small cap.
    """
    strict = limit is not None and 200 <= response.status_code < 300
    cap = limit.size if strict and limit is not None else SMALL_BODY_CAP
    if strict:
        declared = _declared_length(response.headers)
        if declared is not None and declared > cap:
            raise _TooLarge(declared)
        encoding = response.headers.get("content-encoding", "").strip().lower()
        if encoding not in ("", "identity"):
            # Asked for identity: a compressed body could expand past any cap while decoded.
            raise _Encoded(encoding)
    body = bytearray()
    async for chunk in response.aiter_raw():
        body += chunk
        if len(body) > cap:
            if strict:
                raise _TooLarge(None)
            del body[cap:]
            break
    return bytes(body)


class Transport:
    """Sends registry requests: endpoints, deadlines, body caps, retries, TLS and quotas."""

    def __init__(self, options: TransportOptions, *, stats: RequestStats, retry: RetryPolicy) -> None:
        self.options = options
        self.stats = stats
        self.retry = retry

    def endpoint(self, name: str, host: str, settings: EndpointSettings) -> Endpoint:
        """A new endpoint for registry `name` served at `host`."""
        verify: ssl.SSLContext | bool
        if settings.insecure:
            # Insecure means plain HTTP, and only when the config says so: no silent
            # fallback from HTTPS, and no implicit exception for localhost.
            scheme, verify = "http", False
        else:
            scheme = "https"
            verify = ssl_context(
                host,
                ca_file=settings.ca_file,
                certs_d=self.options.certs_d,
                environ=self.options.environ,
            )
        http = httpx.AsyncClient(
            verify=verify,
            timeout=httpx.Timeout(self.options.timeout),
            follow_redirects=False,
            # Compressed bodies could expand past every cap while being decoded.
            headers={"User-Agent": USER_AGENT, "Accept-Encoding": "identity"},
            limits=httpx.Limits(
                max_connections=self.options.per_registry_concurrency * 2,
                max_keepalive_connections=self.options.per_registry_concurrency,
            ),
            trust_env=False,
        )
        return Endpoint(
            name,
            http=http,
            base_url=f"{scheme}://{host}",
            semaphore=asyncio.Semaphore(self.options.per_registry_concurrency),
            insecure=settings.insecure,
        )

    async def send(
        self,
        endpoint: Endpoint,
        method: str,
        url: str,
        *,
        kind: str,
        headers: Mapping[str, str],
        data: Mapping[str, str] | None = None,
        limit: BodyLimit | None = None,
    ) -> Answer:
        """Send with retries on 429/502/503/504 and connection faults, within the budget."""
        outgoing = Outgoing(method, url, kind, headers, data, limit)
        try:
            async for attempt in self.retry.retrying():
                with attempt:
                    return await self._send_once(endpoint, outgoing)
        except Transient as exc:
            raise self._exhausted(endpoint, exc, outgoing) from None
        raise AssertionError("unreachable")  # pragma: no cover

    async def _send_once(self, endpoint: Endpoint, outgoing: Outgoing) -> Answer:
        """One attempt, holding one of the registry's concurrency slots and within deadlines."""
        async with endpoint.semaphore:
            budget = current_budget()
            allowed = self.options.request_deadline
            if budget is not None:
                if budget.remaining() <= 0:
                    raise self._out_of_time(endpoint, budget, outgoing)
                allowed = min(allowed, budget.remaining())
            self.stats.add(endpoint.name, outgoing.kind)
            started = time.monotonic()
            try:
                async with asyncio.timeout(allowed):
                    answer = await self._exchange(endpoint, outgoing)
            except TimeoutError:
                if budget is not None and allowed < self.options.request_deadline:
                    raise self._out_of_time(endpoint, budget, outgoing) from None
                detail = f"no complete answer within {allowed:g} s"
                log.info("%s %s: %s", outgoing.method, loggable(outgoing.url), detail)
                raise Transient(detail) from None
            finally:
                if budget is not None:
                    budget.charge(time.monotonic() - started)
        log.debug("%s %s -> %s", outgoing.method, loggable(outgoing.url), answer.status_code)
        return self._judge(endpoint, answer, outgoing.url)

    async def _exchange(self, endpoint: Endpoint, outgoing: Outgoing) -> Answer:
        """One request and its whole (capped) body; transport failures become retryable."""
        method, url = outgoing.method, outgoing.url
        try:
            request = endpoint.http.build_request(
                method, url, headers=outgoing.headers, data=outgoing.data
            )
            response = await endpoint.http.send(request, stream=True)
            try:
                # A HEAD answer's Content-Length is the GET's: the GET is where the cap applies.
                # (Its empty body is still read: that returns the connection to the pool.)
                limit = None if method == "HEAD" else outgoing.limit
                body = await _read_body(response, limit)
            finally:
                await response.aclose()
        except ssl.SSLError as exc:
            # A TLS 1.3 server refuses a client certificate after the handshake, so the
            # alert arrives on the first read, which httpx does not wrap.
            raise self._tls_error(endpoint, url, exc) from None
        except httpx.TransportError as exc:
            cause = _tls_cause(exc)
            if cause is not None:
                raise self._tls_error(endpoint, url, cause) from None
            detail = _describe_transport(exc, self.options.timeout)
            log.info("%s %s: %s", method, loggable(url), detail)
            raise Transient(detail) from None
        except _TooLarge as exc:
            raise self._too_large(endpoint, outgoing, exc.declared) from None
        except _Encoded as exc:
            raise RegistryError(
                endpoint.name,
                f"{method} {outgoing.path}: answered with Content-Encoding {exc.encoding}, "
                "which pinbot did not ask for",
            ) from None
        return Answer(response.status_code, response.headers, body, str(response.url))

    def _judge(self, endpoint: Endpoint, answer: Answer, url: str) -> Answer:
        """Note the quota an answer reports; raise for the statuses worth retrying."""
        quota: QuotaReading | None = None
        if origin(url) == origin(endpoint.base_url):
            # Only the registry's own answers: token servers and blob storage keep other books.
            quota = parse_quota(answer.headers)
            if quota is not None:
                self.stats.observe_quota(endpoint.name, endpoint.host, quota)
        if answer.status_code in RETRY_STATUSES:
            retry_after = parse_retry_after(answer.headers.get("retry-after"))
            final = False
            if answer.status_code == 429 and quota is not None and quota.remaining == 0:
                # A used-up pull quota comes back when its window resets, not in seconds.
                if retry_after is None:
                    retry_after = quota.reset
                final = retry_after is None
            raise Transient(
                f"HTTP {answer.status_code}",
                status=answer.status_code,
                retry_after=retry_after,
                quota=quota,
                final=final,
            )
        return answer

    @staticmethod
    def _out_of_time(
        endpoint: Endpoint, budget: LookupBudget, outgoing: Outgoing
    ) -> RegistryUnavailable:
        return RegistryUnavailable(
            endpoint.name,
            f"{outgoing.method} {outgoing.path}: no complete answer within the "
            f"{budget.seconds:g} s a lookup may take",
        )

    @staticmethod
    def _too_large(
        endpoint: Endpoint, outgoing: Outgoing, declared: int | None
    ) -> ResponseTooLarge:
        size = f" ({declared} bytes announced)" if declared is not None else ""
        return ResponseTooLarge(
            endpoint.name,
            f"{outgoing.method} {outgoing.path}: answer larger than the {outgoing.limit}{size}",
        )

    def _exhausted(self, endpoint: Endpoint, exc: Transient, outgoing: Outgoing) -> RegistryError:
        where = outgoing.path
        if exc.status == 429:
            quota = exc.quota
            if quota is None and endpoint.name in self.stats.quotas:
                quota = self.stats.quotas[endpoint.name].lowest
            if exc.final:
                tried = "not retried, the pull quota is used up"
            else:
                tried = f"after retrying within {self.retry.describe()}"
            hint = ""
            if exc.retry_after is not None:
                hint += f"; the registry asks to wait {exc.retry_after:g} s"
            if quota is not None:
                hint += f"; {quota}"
            return RateLimited(
                endpoint.name,
                f"rate limited (HTTP 429) on {where} {tried}{hint}",
                retry_after=exc.retry_after,
                quota=quota,
            )
        return RegistryUnavailable(
            endpoint.name,
            f"{exc.detail} on {where}, still failing after retries "
            f"({self.retry.describe()})",
        )

    def _tls_error(self, endpoint: Endpoint, url: str, cause: ssl.SSLError) -> RegistryTLSError:
        reason = (
            getattr(cause, "verify_message", None) or getattr(cause, "reason", None) or str(cause)
        )
        host = urlsplit(url).netloc
        hint = ""
        if "WRONG_VERSION_NUMBER" in str(cause) or reason == "WRONG_VERSION_NUMBER":
            hint = " (does it speak plain HTTP? then mark it insecure in pinbot's config)"
        elif isinstance(cause, ssl.SSLCertVerificationError):
            hint = " (set ca-file in pinbot's config, SSL_CERT_FILE, or certs.d/<host>/ca.crt)"
        elif "BAD_CERTIFICATE" in str(cause) or "CERTIFICATE_REQUIRED" in str(cause):
            folder = self.options.certs_d / endpoint.host
            hint = (
                " (the registry wants a client certificate it trusts: put a NAME.cert and"
                f" NAME.key pair in {folder}/)"
            )
        return RegistryTLSError(endpoint.name, f"TLS with {host} failed: {reason}{hint}")
