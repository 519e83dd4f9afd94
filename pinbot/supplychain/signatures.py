"""Signatures on an image digest: cosign (key-based) verified, keyless and Notation named.

Pure: reads cosign signature manifests (simple-signing payload layers with the
`dev.cosignproject.cosign/signature` annotation) and Sigstore bundles (a DSSE envelope over an
in-toto statement), and verifies them against a PEM public key (ECDSA, RSA or Ed25519) for one
exact digest. `cryptography` is imported only when a signature is verified.
"""

from __future__ import annotations

import base64
import binascii
import enum
import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pinbot.supplychain._fields import (
    SupplyChainError,
    load_object,
    mapping,
    objects,
    string,
)
from pinbot.supplychain.attestations import parse_statement

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.types import PublicKeyTypes

SIMPLE_SIGNING = "application/vnd.dev.cosign.simplesigning.v1+json"
COSIGN_SIGNATURE_ANNOTATION = "dev.cosignproject.cosign/signature"
COSIGN_CERTIFICATE_ANNOTATION = "dev.sigstore.cosign/certificate"
COSIGN_ARTIFACT_TYPE = "application/vnd.dev.cosign.artifact.sig.v1+json"
SIGSTORE_BUNDLE_PREFIX = "application/vnd.dev.sigstore.bundle"
NOTATION_ARTIFACT_TYPE = "application/vnd.cncf.notary.signature"
DSSE_IN_TOTO = "application/vnd.in-toto+json"
COSIGN_PAYLOAD_TYPES = frozenset({"cosign container image signature", "atomic container signature"})
#: Signature payloads and bundles are small; anything larger is not read.
MAX_SIGNATURE_BLOB = 256 * 1024
MAX_SIGNATURE_LAYERS = 16


class SignatureKind(enum.StrEnum):
    COSIGN = "cosign"
    SIGSTORE_BUNDLE = "Sigstore bundle"
    NOTATION = "Notation"


class SignatureStatus(enum.StrEnum):
    """What is known of a digest's signatures, from best to worst for the gate."""

    VERIFIED = "verified"  # a signature verifies with the configured key on this digest
    UNVERIFIED = "unverified"  # signatures found, none could be checked (no key, keyless)
    INVALID = "invalid"  # signatures found, none verifies with the key on this digest
    UNSIGNED = "unsigned"  # nothing found


@dataclass(frozen=True)
class Signature:
    """One signature found for a digest, before verification."""

    kind: SignatureKind
    found_by: str  # "tag sha256-….sig", "referrers API", "referrers tag"
    payload: bytes = b""  # what was signed (simple-signing JSON, or the DSSE PAE)
    signature: bytes = b""
    keyless: bool = False  # carries a certificate instead of relying on a key
    statement: bytes = b""  # DSSE only: the in-toto statement the payload wraps


@dataclass(frozen=True)
class SignatureCheck:
    """The verdict on a digest's signatures, and the words for it."""

    status: SignatureStatus
    signer: str | None = None  # the key that verified, as configured
    scope: str | None = None  # "the index", "each platform image", "the image"
    detail: str = ""
    kinds: tuple[SignatureKind, ...] = ()


def decode_base64(text: str | None) -> bytes | None:
    if text is None:
        return None
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None


def cosign_signatures(
    manifest: Mapping[str, Any], layers: Mapping[str, bytes], found_by: str
) -> list[Signature]:
    """Signatures in a cosign signature manifest; `layers` maps layer digests to their bytes."""
    out = []
    for layer in objects(manifest, "layers", MAX_SIGNATURE_LAYERS):
        if string(layer, "mediaType") != SIMPLE_SIGNING:
            continue
        annotations = mapping(layer, "annotations") or {}
        signature = decode_base64(string(annotations, COSIGN_SIGNATURE_ANNOTATION, limit=8192))
        payload = layers.get(string(layer, "digest") or "")
        if signature is None or payload is None:
            continue
        keyless = string(annotations, COSIGN_CERTIFICATE_ANNOTATION, limit=65536) is not None
        out.append(Signature(SignatureKind.COSIGN, found_by, payload, signature, keyless))
    return out


def _pae(payload_type: str, payload: bytes) -> bytes:
    """DSSE's pre-authentication encoding: what a DSSE signature signs."""
    kind = payload_type.encode()
    return b"DSSEv1 %d %b %d %b" % (len(kind), kind, len(payload), payload)


def bundle_signatures(body: bytes, found_by: str) -> list[Signature]:
    """The signatures of a Sigstore bundle holding a DSSE envelope (cosign 3's form)."""
    bundle = load_object(body, "Sigstore bundle")
    material = mapping(bundle, "verificationMaterial") or {}
    keyless = "certificate" in material or "x509CertificateChain" in material
    envelope = mapping(bundle, "dsseEnvelope")
    if envelope is None:
        if mapping(bundle, "messageSignature") is not None:
            # A bare message signature signs a hash of an artifact, not an image digest.
            return [Signature(SignatureKind.SIGSTORE_BUNDLE, found_by, keyless=keyless)]
        raise SupplyChainError("Sigstore bundle has neither a DSSE envelope nor a signature")
    payload_type = string(envelope, "payloadType") or ""
    payload = decode_base64(string(envelope, "payload", limit=MAX_SIGNATURE_BLOB))
    if payload is None or payload_type != DSSE_IN_TOTO:
        raise SupplyChainError("Sigstore bundle's envelope holds no in-toto statement")
    out = []
    for entry in objects(envelope, "signatures", 8):
        signature = decode_base64(string(entry, "sig", limit=8192))
        if signature is not None:
            out.append(
                Signature(
                    SignatureKind.SIGSTORE_BUNDLE,
                    found_by,
                    _pae(payload_type, payload),
                    signature,
                    keyless,
                    statement=payload,
                )
            )
    return out


@dataclass(frozen=True)
class PublicKey:
    """A cosign public key (PEM) and the name it is shown by."""

    pem: bytes
    name: str

    @property
    def fingerprint(self) -> str:
        return "SHA256:" + hashlib.sha256(self.pem.strip()).hexdigest()[:16]


def load_key(key: PublicKey) -> PublicKeyTypes:
    """The key as `cryptography` holds it; `SupplyChainError` when it is not a usable key."""
    try:
        from cryptography.exceptions import UnsupportedAlgorithm
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
    except ImportError as exc:  # pragma: no cover - a dependency, but fail closed all the same
        raise SupplyChainError("signatures cannot be checked: cryptography is missing") from exc
    try:
        loaded = serialization.load_pem_public_key(key.pem)
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise SupplyChainError(f"{key.name} is not a PEM public key") from exc
    if not isinstance(
        loaded, ec.EllipticCurvePublicKey | rsa.RSAPublicKey | ed25519.Ed25519PublicKey
    ):
        raise SupplyChainError(f"{key.name}: only ECDSA, RSA and Ed25519 keys are supported")
    return loaded


def _signature_holds(public_key: PublicKeyTypes, signature: bytes, payload: bytes) -> bool:
    """Whether `signature` over `payload` verifies, as cosign signs with each key type."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa

    try:
        if isinstance(public_key, ec.EllipticCurvePublicKey):
            public_key.verify(signature, payload, ec.ECDSA(hashes.SHA256()))
        elif isinstance(public_key, rsa.RSAPublicKey):
            public_key.verify(signature, payload, padding.PKCS1v15(), hashes.SHA256())
        elif isinstance(public_key, ed25519.Ed25519PublicKey):
            public_key.verify(signature, payload)
        else:
            return False
    except (InvalidSignature, ValueError):
        return False
    return True


def signed_digests(signature: Signature) -> frozenset[str]:
    """The image digests a signature's payload names (it must name the one checked)."""
    if signature.kind is SignatureKind.SIGSTORE_BUNDLE:
        if not signature.statement:
            return frozenset()
        return parse_statement(signature.statement).subject_digests
    document = load_object(signature.payload, "signature payload")
    critical = mapping(document, "critical")
    if string(critical, "type") not in COSIGN_PAYLOAD_TYPES:
        raise SupplyChainError("signature payload is not a cosign image signature")
    digest = string(critical, "image", "docker-manifest-digest", limit=200)
    return frozenset({digest}) if digest else frozenset()


def check_one(signature: Signature, digest: str, public_key: PublicKeyTypes) -> str | None:
    """None when `signature` verifies with the key and is about `digest`, else why not."""
    if signature.kind is SignatureKind.NOTATION:
        return "Notation signatures are not verified by pinbot"
    if not signature.signature:
        return "a bundle signing an artifact hash, not an image"
    if not _signature_holds(public_key, signature.signature, signature.payload):
        return "does not verify with the key"
    try:
        digests = signed_digests(signature)
    except SupplyChainError as exc:
        return str(exc)
    if digest not in digests:
        return "signs another digest"
    return None


def check(
    signatures: Sequence[Signature], digest: str, key: PublicKey | None, scope: str
) -> SignatureCheck:
    """The verdict on `digest` from the signatures found for it."""
    kinds = tuple(dict.fromkeys(s.kind for s in signatures))
    if not signatures:
        return SignatureCheck(SignatureStatus.UNSIGNED, detail="no signature found")
    if key is None:
        return SignatureCheck(
            SignatureStatus.UNVERIFIED, scope=scope, detail="no key configured", kinds=kinds
        )
    try:
        public_key = load_key(key)
    except SupplyChainError as exc:
        return SignatureCheck(SignatureStatus.INVALID, scope=scope, detail=str(exc), kinds=kinds)
    reasons = []
    for signature in signatures:
        if signature.kind is SignatureKind.NOTATION:
            continue
        reason = check_one(signature, digest, public_key)
        if reason is None:
            return SignatureCheck(
                SignatureStatus.VERIFIED, signer=key.name, scope=scope, kinds=kinds
            )
        reasons.append(f"{signature.kind} signature ({signature.found_by}) {reason}")
    if not reasons:
        only = ", ".join(str(k) for k in kinds)
        return SignatureCheck(
            SignatureStatus.UNVERIFIED, scope=scope, detail=f"only {only} found", kinds=kinds
        )
    return SignatureCheck(
        SignatureStatus.INVALID, scope=scope, detail="; ".join(dict.fromkeys(reasons)), kinds=kinds
    )
