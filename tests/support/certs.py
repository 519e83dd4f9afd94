"""Test certificate authority: a CA, server certificates with proper SANs and a token signer.

Everything is generated with `cryptography` at test time (EC P-256, fast) and written as PEM.
Go's TLS stack ignores the subject CN, so server certificates carry SANs for 127.0.0.1, ::1
and localhost.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

DEFAULT_SANS: tuple[str, ...] = ("127.0.0.1", "::1", "localhost")


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _validity() -> tuple[dt.datetime, dt.datetime]:
    now = dt.datetime.now(dt.UTC)
    return now - dt.timedelta(hours=1), now + dt.timedelta(days=2)


def _san(names: tuple[str, ...]) -> x509.SubjectAlternativeName:
    entries: list[x509.GeneralName] = []
    for name in names:
        try:
            entries.append(x509.IPAddress(ipaddress.ip_address(name)))
        except ValueError:
            entries.append(x509.DNSName(name))
    return x509.SubjectAlternativeName(entries)


@dataclass
class KeyPair:
    """A certificate and its private key, in memory and on disk."""

    cert: x509.Certificate
    key: ec.EllipticCurvePrivateKey
    cert_file: Path
    key_file: Path

    @property
    def cert_pem(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.PEM)

    @property
    def key_pem(self) -> bytes:
        return _key_pem(self.key)


class TestCA:
    """A throw-away certificate authority writing its files under `directory`."""

    __test__ = False  # not a pytest test class

    def __init__(self, directory: Path, name: str = "pinbot test CA") -> None:
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)
        key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
        not_before, not_after = _validity()
        cert = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(not_before)
            .not_valid_after(not_after)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=True,
                    crl_sign=True,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(
                x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False
            )
            .sign(key, hashes.SHA256())
        )
        self.ca = KeyPair(cert, key, directory / "ca.pem", directory / "ca.key")
        self.ca.cert_file.write_bytes(self.ca.cert_pem)
        self.ca.key_file.write_bytes(self.ca.key_pem)
        # `skopeo --cert-dir` treats every *.crt in the directory as a CA: keep only the CA there.
        self.cert_dir = directory / "skopeo-certs"
        self.cert_dir.mkdir(exist_ok=True)
        (self.cert_dir / "ca.crt").write_bytes(self.ca.cert_pem)

    @property
    def ca_file(self) -> Path:
        return self.ca.cert_file

    def server_cert(self, name: str, sans: tuple[str, ...] = DEFAULT_SANS) -> KeyPair:
        """A TLS server certificate signed by this CA, valid for `sans`."""
        key = ec.generate_private_key(ec.SECP256R1())
        not_before, not_after = _validity()
        cert = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
            .issuer_name(self.ca.cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(not_before)
            .not_valid_after(not_after)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(_san(sans), critical=False)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self.ca.key.public_key()),
                critical=False,
            )
            .sign(self.ca.key, hashes.SHA256())
        )
        pair = KeyPair(cert, key, self.directory / f"{name}.pem", self.directory / f"{name}.key")
        pair.cert_file.write_bytes(pair.cert_pem)
        pair.key_file.write_bytes(pair.key_pem)
        return pair


def self_signed_signer(directory: Path, name: str = "pinbot token signer") -> KeyPair:
    """A self-signed certificate for signing registry tokens (goes into `rootcertbundle`)."""
    directory.mkdir(parents=True, exist_ok=True)
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    not_before, not_after = _validity()
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    pair = KeyPair(cert, key, directory / "token-signer.pem", directory / "token-signer.key")
    pair.cert_file.write_bytes(pair.cert_pem)
    pair.key_file.write_bytes(pair.key_pem)
    return pair
