"""Pin structured references end to end, pure: scan text, plan with verified lookups, apply.

Helm image maps, Kustomize `images` entries, Dockerfile FROMs built from ARG defaults, and
values that cannot be spliced sitting in a file that is edited.
"""

from __future__ import annotations

from pinbot.apply import apply_edits
from pinbot.config import PinConfig
from pinbot.plan import DEFAULT_PIN, Lookup, Plan, plan
from pinbot.scanners import scan_text

NEW = "sha256:" + "a" * 64
OLD = "sha256:" + "b" * 64


def pin(
    path: str, text: str, lookups: dict[str, str], config: PinConfig = DEFAULT_PIN
) -> tuple[str, Plan]:
    """`text` after planning with `lookups` (name:tag -> verified digest) and applying."""
    occurrences = scan_text(path, text).occurrences
    verified = {key: Lookup(digest, verified=True) for key, digest in lookups.items()}
    result = plan(occurrences, verified, config)
    change = apply_edits(path, text.encode("utf-8"), result.edits)
    return change.updated.decode("utf-8"), result


def test_a_folded_image_beside_an_edited_one_is_left_as_written() -> None:
    text = (
        "apiVersion: v1\nkind: Pod\nspec:\n  containers:\n"
        "  - name: a\n    image: >-\n      quay.io/x/y:1\n\n"
        "  - name: b\n    image: busybox:1.36\n"
    )
    folded, plain = scan_text("pod.yaml", text).occurrences
    assert plain.rewritable
    assert folded.text == ">-\n      quay.io/x/y:1" and not folded.rewritable
    updated, result = pin(
        "pod.yaml", text, {"quay.io/x/y:1": NEW, "docker.io/library/busybox:1.36": NEW}
    )
    assert updated == text.replace("busybox:1.36", f"busybox:1.36@{NEW}")
    assert [n.occurrence.text for n in result.notices] == [folded.text]
