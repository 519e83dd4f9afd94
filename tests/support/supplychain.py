"""Push what BuildKit, cosign and Notation attach to images, into the test registry.

- `push_attested_index`: an OCI index with platform images and, per image, a BuildKit
  attestation manifest (`vnd.docker.reference.type: attestation-manifest`) whose in-toto
  layers are an SPDX 2.3 SBOM and a SLSA provenance statement.
- `CosignKey`: a key made in the test (ECDSA P-256, RSA or Ed25519) that signs as cosign does.
- `push_legacy_signature`: cosign 2's `sha256-<hex>.sig` tag (simple-signing payload layer with
  the signature in the `dev.cosignproject.cosign/signature` annotation).
- `push_referrer`: an artifact manifest with a `subject`, listed in the referrers tag schema's
  `sha256-<hex>` index (what cosign and oras write where a registry lacks the referrers API).
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa

from tests.support.registry import (
    IN_TOTO,
    OCI_CONFIG,
    OCI_INDEX,
    OCI_MANIFEST,
    Platform,
    Pushed,
    RunningRegistry,
    _platform_dict,
    sha256_digest,
)

SPDX = "https://spdx.dev/Document"
SLSA_V02 = "https://slsa.dev/provenance/v0.2"
SLSA_V1 = "https://slsa.dev/provenance/v1"
SIMPLE_SIGNING = "application/vnd.dev.cosign.simplesigning.v1+json"
COSIGN_ARTIFACT = "application/vnd.dev.cosign.artifact.sig.v1+json"
NOTATION_ARTIFACT = "application/vnd.cncf.notary.signature"
BUNDLE_V03 = "application/vnd.dev.sigstore.bundle.v0.3+json"
EMPTY_CONFIG = "application/vnd.oci.empty.v1+json"
DSSE_ENVELOPE = "application/vnd.dsse.envelope.v1+json"


def _dumps(obj: Any) -> bytes:
    return json.dumps(obj, indent=2, sort_keys=True).encode()


# --- predicates -----------------------------------------------------------------------------


def spdx_document(
    packages: dict[str, str], *, kind: str = "apk", distro: str | None = None
) -> dict[str, Any]:
    """An SPDX 2.3 document listing `packages` (name -> version), as syft writes them
    (`distro`: the release syft puts in each package URL, e.g. `alpine-3.19.1`)."""
    qualifiers = "?arch=x86_64" + (f"&distro={distro}" if distro else "")
    entries = [
        {
            "SPDXID": f"SPDXRef-Package-{kind}-{name}",
            "name": name,
            "versionInfo": version,
            "downloadLocation": "NOASSERTION",
            "externalRefs": [
                {
                    "referenceCategory": "PACKAGE-MANAGER",
                    "referenceType": "purl",
                    "referenceLocator": f"pkg:{kind}/alpine/{name}@{version}{qualifiers}",
                }
            ],
        }
        for name, version in sorted(packages.items())
    ]
    entries.append({"SPDXID": "SPDXRef-DocumentRoot-Directory-", "name": "/"})
    return {
        "spdxVersion": "SPDX-2.3",
        "dataLicense": "CC0-1.0",
        "SPDXID": "SPDXRef-DOCUMENT",
        "name": "sbom",
        "creationInfo": {"creators": ["Tool: syft-v0.105.0"], "created": "2024-01-01T00:00:00Z"},
        "packages": entries,
    }


def slsa_v02(
    *,
    source: str = "https://github.com/acme/api",
    commit: str = "a" * 40,
    base: tuple[str, str] = ("alpine:3.19", "b" * 64),
    builder: str = "https://github.com/acme/api/actions/runs/1/attempts/1",
    event: str = "push",
) -> dict[str, Any]:
    """A SLSA v0.2 predicate shaped as BuildKit writes it (mode=max, with vcs metadata)."""
    name, digest = base
    image, _, tag = name.partition(":")
    return {
        "builder": {"id": builder},
        "buildType": "https://mobyproject.org/buildkit@v1",
        "materials": [
            {
                "uri": f"pkg:docker/{image}@{tag}?platform=linux%2Famd64",
                "digest": {"sha256": digest},
            },
            {"uri": f"{source}.git#refs/heads/main", "digest": {"sha1": commit}},
        ],
        "invocation": {
            "configSource": {
                "uri": f"{source}.git#refs/heads/main",
                "digest": {"sha1": commit},
                "entryPoint": "Dockerfile",
            },
            "parameters": {"frontend": "dockerfile.v0"},
            "environment": {"platform": "linux/amd64", "github_event_name": event},
        },
        "metadata": {
            "buildInvocationID": "ab12",
            "completeness": {"parameters": True, "environment": True, "materials": False},
            "reproducible": False,
            "https://mobyproject.org/buildkit@v1#metadata": {
                "vcs": {"source": source, "revision": commit}
            },
        },
    }


def slsa_v1(
    *,
    source: str = "https://github.com/acme/api",
    commit: str = "a" * 40,
    base: tuple[str, str] = ("alpine:3.19", "b" * 64),
    builder: str = "https://github.com/acme/api/actions/runs/1/attempts/1",
    event: str = "release",
) -> dict[str, Any]:
    """A SLSA v1 predicate shaped as BuildKit writes it."""
    name, digest = base
    image, _, tag = name.partition(":")
    return {
        "buildDefinition": {
            "buildType": "https://github.com/moby/buildkit/blob/master/docs/attestations/slsa-definitions.md",
            "externalParameters": {
                "configSource": {
                    "uri": f"{source}.git#refs/tags/v1",
                    "digest": {"sha1": commit},
                    "path": "Dockerfile",
                },
                "request": {"frontend": "dockerfile.v0"},
            },
            "internalParameters": {"github": {"event_name": event}},
            "resolvedDependencies": [
                {
                    "uri": f"pkg:docker/{image}@{tag}?platform=linux%2Famd64",
                    "digest": {"sha256": digest},
                }
            ],
        },
        "runDetails": {
            "builder": {"id": builder},
            "metadata": {"invocationID": "cd34"},
        },
    }


def statement(predicate_type: str, predicate: dict[str, Any], subject_digest: str) -> bytes:
    return _dumps(
        {
            "_type": "https://in-toto.io/Statement/v0.1",
            "predicateType": predicate_type,
            "subject": [
                {"name": "pkg:docker/test", "digest": {"sha256": subject_digest.split(":", 1)[1]}}
            ],
            "predicate": predicate,
        }
    )


# --- images with attestations ---------------------------------------------------------------


@dataclass
class AttestedImage:
    index: Pushed
    children: list[Pushed]
    attestations: list[Pushed] = field(default_factory=list)
    statements: list[bytes] = field(default_factory=list)

    @property
    def digest(self) -> str:
        return self.index.digest


def push_attestation_manifest(
    reg: RunningRegistry, repo: str, layers: list[tuple[str, bytes]]
) -> Pushed:
    """A BuildKit attestation manifest: one in-toto layer per (predicate type, statement)."""
    digests = [reg.upload_blob(repo, body) for _, body in layers]
    config = _dumps(
        {
            "architecture": "unknown",
            "os": "unknown",
            "config": {},
            "rootfs": {"type": "layers", "diff_ids": digests},
        }
    )
    config_digest = reg.upload_blob(repo, config)
    manifest = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {"mediaType": OCI_CONFIG, "digest": config_digest, "size": len(config)},
        "layers": [
            {
                "mediaType": IN_TOTO,
                "digest": digest,
                "size": len(body),
                "annotations": {"in-toto.io/predicate-type": predicate_type},
            }
            for (predicate_type, body), digest in zip(layers, digests, strict=True)
        ],
    }
    body = _dumps(manifest)
    digest = reg.put_manifest(repo, None, body, OCI_MANIFEST)
    return Pushed(digest, OCI_MANIFEST, body, len(body), repo=repo, layer_digests=digests)


def push_attested_index(
    reg: RunningRegistry,
    repo: str,
    tag: str | None,
    *,
    packages: dict[str, str] | None = None,
    provenance: dict[str, Any] | None = None,
    provenance_type: str = SLSA_V02,
    platforms: list[Platform] | None = None,
    seed: str = "",
    raw_layers: list[tuple[str, bytes]] | None = None,
    distro: str | None = None,
) -> AttestedImage:
    """An index as `docker buildx build --sbom --provenance` pushes it.

    Each platform image gets an attestation manifest with an SPDX SBOM of `packages` and a
    provenance statement; `raw_layers` replaces those layers with given (type, bytes).
    """
    platforms = platforms or [("linux", "amd64", None)]
    children = [reg.push_image(repo, None, oci=True, platform=p, seed=seed) for p in platforms]
    entries: list[dict[str, Any]] = [
        {
            "mediaType": c.media_type,
            "digest": c.digest,
            "size": c.size,
            "platform": _platform_dict(p),
        }
        for c, p in zip(children, platforms, strict=True)
    ]
    image = AttestedImage(index=children[0], children=children)
    for child in children:
        if raw_layers is not None:
            layers = raw_layers
        else:
            layers = []
            if packages is not None:
                document = spdx_document(packages, distro=distro)
                layers.append((SPDX, statement(SPDX, document, child.digest)))
            if provenance is not None:
                layers.append(
                    (provenance_type, statement(provenance_type, provenance, child.digest))
                )
        image.statements += [body for _, body in layers]
        attestation = push_attestation_manifest(reg, repo, layers)
        image.attestations.append(attestation)
        entries.append(
            {
                "mediaType": OCI_MANIFEST,
                "digest": attestation.digest,
                "size": attestation.size,
                "annotations": {
                    "vnd.docker.reference.digest": child.digest,
                    "vnd.docker.reference.type": "attestation-manifest",
                },
                "platform": {"architecture": "unknown", "os": "unknown"},
            }
        )
    body = _dumps({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": entries})
    digest = reg.put_manifest(repo, tag, body, OCI_INDEX)
    image.index = Pushed(digest, OCI_INDEX, body, len(body), repo=repo, tag=tag)
    return image


# --- signatures -----------------------------------------------------------------------------


class CosignKey:
    """A signing key made in the test; signs payloads as cosign does for its key type."""

    def __init__(self, kind: str = "ecdsa") -> None:
        self.kind = kind
        if kind == "ecdsa":
            self._key: Any = ec.generate_private_key(ec.SECP256R1())
        elif kind == "rsa":
            self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        elif kind == "ed25519":
            self._key = ed25519.Ed25519PrivateKey.generate()
        else:
            raise ValueError(kind)

    @property
    def public_pem(self) -> bytes:
        return self._key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    def sign(self, payload: bytes) -> bytes:
        if self.kind == "ecdsa":
            return bytes(self._key.sign(payload, ec.ECDSA(hashes.SHA256())))
        if self.kind == "rsa":
            return bytes(self._key.sign(payload, padding.PKCS1v15(), hashes.SHA256()))
        return bytes(self._key.sign(payload))


def simple_signing_payload(reference: str, digest: str) -> bytes:
    """The payload cosign signs for an image digest (no trailing newline, compact)."""
    return json.dumps(
        {
            "critical": {
                "identity": {"docker-reference": reference},
                "image": {"docker-manifest-digest": digest},
                "type": "cosign container image signature",
            },
            "optional": None,
        },
        separators=(",", ":"),
    ).encode()


def _empty_config(reg: RunningRegistry, repo: str) -> dict[str, Any]:
    digest = reg.upload_blob(repo, b"{}")
    return {"mediaType": EMPTY_CONFIG, "digest": digest, "size": 2}


def _signature_manifest(
    reg: RunningRegistry,
    repo: str,
    digest: str,
    key: CosignKey,
    *,
    signed_digest: str | None,
    tamper: bool,
    subject: Pushed | None,
) -> dict[str, Any]:
    payload = simple_signing_payload(f"{reg.host}/{repo}", signed_digest or digest)
    signature = key.sign(payload)
    if tamper:
        # The stored payload is not the one signed: same digest, another identity.
        payload = simple_signing_payload(f"{reg.host}/evil", signed_digest or digest)
    payload_digest = reg.upload_blob(repo, payload)
    manifest: dict[str, Any] = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {"mediaType": OCI_CONFIG, "digest": reg.upload_blob(repo, b"{}"), "size": 2},
        "layers": [
            {
                "mediaType": SIMPLE_SIGNING,
                "digest": payload_digest,
                "size": len(payload),
                "annotations": {
                    "dev.cosignproject.cosign/signature": base64.b64encode(signature).decode()
                },
            }
        ],
    }
    if subject is not None:
        manifest["artifactType"] = COSIGN_ARTIFACT
        manifest["config"] = _empty_config(reg, repo)
        manifest["subject"] = {
            "mediaType": subject.media_type,
            "digest": subject.digest,
            "size": subject.size,
        }
    return manifest


def push_legacy_signature(
    reg: RunningRegistry,
    repo: str,
    digest: str,
    key: CosignKey,
    *,
    signed_digest: str | None = None,
    tamper: bool = False,
) -> Pushed:
    """cosign 2's `sha256-<hex>.sig` tag for `digest`.

    `signed_digest` puts another digest in the signed payload (a signature copied from another
    image); `tamper` stores a payload other than the one signed.
    """
    manifest = _signature_manifest(
        reg, repo, digest, key, signed_digest=signed_digest, tamper=tamper, subject=None
    )
    body = _dumps(manifest)
    tag = "sha256-" + digest.split(":", 1)[1] + ".sig"
    pushed = reg.put_manifest(repo, tag, body, OCI_MANIFEST)
    return Pushed(pushed, OCI_MANIFEST, body, len(body), repo=repo, tag=tag)


def push_referrer(
    reg: RunningRegistry,
    repo: str,
    subject: Pushed,
    manifest: dict[str, Any],
    *,
    tag_schema: bool = True,
) -> Pushed:
    """Push an artifact manifest and add it to `subject`'s referrers tag (`sha256-<hex>`).

    Without `tag_schema` only the manifest is pushed (a registry with the referrers API
    would list it; see `referrers_index`).
    """
    manifest = {
        **manifest,
        "subject": {
            "mediaType": subject.media_type,
            "digest": subject.digest,
            "size": subject.size,
        },
    }
    body = _dumps(manifest)
    digest = reg.put_manifest(repo, None, body, OCI_MANIFEST)
    pushed = Pushed(digest, OCI_MANIFEST, body, len(body), repo=repo)
    if not tag_schema:
        return pushed
    tag = "sha256-" + subject.digest.split(":", 1)[1]
    with reg.client() as client:
        current = client.get(f"/v2/{repo}/manifests/{tag}", headers={"Accept": OCI_INDEX})
    entries = current.json()["manifests"] if current.status_code == 200 else []
    entries.append(
        {
            "mediaType": OCI_MANIFEST,
            "digest": digest,
            "size": len(body),
            "artifactType": manifest.get("artifactType", ""),
        }
    )
    index = _dumps({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": entries})
    reg.put_manifest(repo, tag, index, OCI_INDEX)
    return pushed


def referrers_index(*referrers: Pushed) -> bytes:
    """What the OCI 1.1 referrers API answers for a subject with these referrers."""
    entries = [
        {
            "mediaType": r.media_type,
            "digest": r.digest,
            "size": r.size,
            "artifactType": r.manifest.get("artifactType", ""),
        }
        for r in referrers
    ]
    return _dumps({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": entries})


def push_referrer_signature(
    reg: RunningRegistry,
    repo: str,
    subject: Pushed,
    key: CosignKey,
    *,
    signed_digest: str | None = None,
    tag_schema: bool = True,
) -> Pushed:
    """A cosign signature as an OCI 1.1 referrer of `subject`, via the referrers tag schema."""
    manifest = _signature_manifest(
        reg, repo, subject.digest, key, signed_digest=signed_digest, tamper=False, subject=subject
    )
    return push_referrer(reg, repo, subject, manifest, tag_schema=tag_schema)


def push_notation_signature(reg: RunningRegistry, repo: str, subject: Pushed) -> Pushed:
    """A Notation signature referrer (a JWS envelope layer; content not checked by pinbot)."""
    envelope = b'{"payload":"e30","protected":"e30","header":{},"signature":"AA"}'
    manifest = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "artifactType": NOTATION_ARTIFACT,
        "config": _empty_config(reg, repo),
        "layers": [
            {
                "mediaType": "application/jose+json",
                "digest": reg.upload_blob(repo, envelope),
                "size": len(envelope),
            }
        ],
    }
    return push_referrer(reg, repo, subject, manifest)


def dsse_pae(payload_type: str, payload: bytes) -> bytes:
    kind = payload_type.encode()
    return b"DSSEv1 %d %b %d %b" % (len(kind), kind, len(payload), payload)


def push_bundle_signature(
    reg: RunningRegistry,
    repo: str,
    subject: Pushed,
    key: CosignKey,
    *,
    signed_digest: str | None = None,
) -> Pushed:
    """cosign 3's form: a Sigstore bundle (DSSE over an in-toto statement) as a referrer."""
    statement_body = json.dumps(
        {
            "_type": "https://in-toto.io/Statement/v1",
            "subject": [
                {
                    "name": f"{reg.host}/{repo}",
                    "digest": {"sha256": (signed_digest or subject.digest).split(":", 1)[1]},
                }
            ],
            "predicateType": "https://sigstore.dev/cosign/sign/v1",
            "predicate": {},
        }
    ).encode()
    signature = key.sign(dsse_pae(IN_TOTO, statement_body))
    bundle = _dumps(
        {
            "mediaType": BUNDLE_V03,
            "verificationMaterial": {"publicKey": {"hint": "test-key"}, "tlogEntries": []},
            "dsseEnvelope": {
                "payload": base64.b64encode(statement_body).decode(),
                "payloadType": IN_TOTO,
                "signatures": [{"sig": base64.b64encode(signature).decode(), "keyid": ""}],
            },
        }
    )
    manifest = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "artifactType": BUNDLE_V03,
        "config": _empty_config(reg, repo),
        "layers": [
            {"mediaType": BUNDLE_V03, "digest": reg.upload_blob(repo, bundle), "size": len(bundle)}
        ],
    }
    return push_referrer(reg, repo, subject, manifest)


def push_cosign_attestation(
    reg: RunningRegistry, repo: str, digest: str, key: CosignKey, statement_body: bytes
) -> Pushed:
    """cosign 2's `sha256-<hex>.att` tag: a DSSE envelope layer over an in-toto statement."""
    signature = key.sign(dsse_pae(IN_TOTO, statement_body))
    envelope = _dumps(
        {
            "payloadType": IN_TOTO,
            "payload": base64.b64encode(statement_body).decode(),
            "signatures": [{"keyid": "", "sig": base64.b64encode(signature).decode()}],
        }
    )
    manifest = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {"mediaType": OCI_CONFIG, "digest": reg.upload_blob(repo, b"{}"), "size": 2},
        "layers": [
            {
                "mediaType": DSSE_ENVELOPE,
                "digest": reg.upload_blob(repo, envelope),
                "size": len(envelope),
            }
        ],
    }
    body = _dumps(manifest)
    tag = "sha256-" + digest.split(":", 1)[1] + ".att"
    pushed = reg.put_manifest(repo, tag, body, OCI_MANIFEST)
    return Pushed(pushed, OCI_MANIFEST, body, len(body), repo=repo, tag=tag)


def sha(data: bytes) -> str:
    return sha256_digest(data)
