"""Which certificate authorities pinbot trusts for a registry.

System trust always; plus `SSL_CERT_FILE`, the registry's `ca-file` from pinbot's config,
and Docker's `certs.d/<host[:port]>/` directory (`*.crt` CAs, `*.cert`/`*.key` client pairs).
"""

from __future__ import annotations

import os
import ssl
from collections.abc import Mapping
from pathlib import Path

from pinbot.registry.errors import RegistryTLSError

DOCKER_CERTS_D = Path("/etc/docker/certs.d")


def ssl_context(
    registry: str,
    *,
    ca_file: Path | None = None,
    certs_d: Path | None = DOCKER_CERTS_D,
    environ: Mapping[str, str] | None = None,
) -> ssl.SSLContext:
    """A verifying client context for `registry` (``host`` or ``host:port``)."""
    env = environ if environ is not None else os.environ
    context = ssl.create_default_context()
    extra: list[Path] = []
    cert_file = env.get("SSL_CERT_FILE")
    if cert_file:
        extra.append(Path(cert_file))
    if ca_file is not None:
        extra.append(ca_file)
    pairs: list[tuple[Path, Path]] = []
    if certs_d is not None:
        directory = certs_d / registry
        if directory.is_dir():
            extra.extend(sorted(directory.glob("*.crt")))
            for cert in sorted(directory.glob("*.cert")):
                pairs.append((cert, cert.with_suffix(".key")))
    for path in extra:
        try:
            context.load_verify_locations(cafile=str(path))
        except (OSError, ssl.SSLError) as exc:
            raise RegistryTLSError(
                registry, f"cannot load CA certificates from {path}: {exc}"
            ) from exc
    for cert, key in pairs:
        try:
            context.load_cert_chain(certfile=str(cert), keyfile=str(key))
        except (OSError, ssl.SSLError) as exc:
            raise RegistryTLSError(
                registry, f"cannot load client certificate {cert} with key {key}: {exc}"
            ) from exc
    return context
