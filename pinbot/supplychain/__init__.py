"""Supply-chain facts about image digests: provenance, SBOM package diffs, signatures, a gate.

`Reviewer.review()` is the one entry point for a digest change: it reads what the old and new digest
say about themselves (`SupplyChainReader`), notes what changed, and evaluates the new digest
against the first matching `verify:` entry (`TrustPolicy`).
"""

from pinbot.supplychain._fields import SupplyChainError
from pinbot.supplychain.findings import ImageFindings, signature_check
from pinbot.supplychain.gate import Requirement, Rule, TrustPolicy, Verdict, evaluate, policy_for
from pinbot.supplychain.notes import SupplyChainNote, compare, render
from pinbot.supplychain.reader import SupplyChainReader
from pinbot.supplychain.review import Review, Reviewer
from pinbot.supplychain.signatures import PublicKey, SignatureCheck, SignatureStatus

__all__ = [
    "ImageFindings",
    "PublicKey",
    "Requirement",
    "Review",
    "Reviewer",
    "Rule",
    "SignatureCheck",
    "SignatureStatus",
    "SupplyChainError",
    "SupplyChainNote",
    "SupplyChainReader",
    "TrustPolicy",
    "Verdict",
    "compare",
    "evaluate",
    "policy_for",
    "render",
    "signature_check",
]
