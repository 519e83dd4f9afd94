"""The Kustomize scanner: `images:` entries composed into references, and where digests go."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from pinbot.scanners import scan_text
from pinbot.scanners.interface import Finding
from pinbot.scanners.kustomize import NO_TAG, SCANNER, plain_scalar_type

DIGEST = "sha256:" + "ab" * 32

KUSTOMIZATION = f"""\
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources: [deploy.yaml]
images:
- name: nginx
  newTag: "1.27"   # web
- name: quay.io/argoproj/argocd
  newName: ghcr.io/acme/argocd
  newTag: v2.13.0
- name: redis
  newName: public.ecr.aws/docker/library/redis
- name: busybox
- name: app
  newTag: v1
  digest: {DIGEST}
- name: empty
  newTag: v2
  digest: ""
- name: null-digest
  newTag: v3
  digest:
- {{name: flow, newTag: v4}}
- not-a-map
- newTag: no-name
helmCharts:
- name: ingress-nginx
  repo: https://kubernetes.github.io/ingress-nginx
  version: 4.11.0
"""


def _apply(text: str, finding: Finding, digest: str = DIGEST) -> str:
    slot = finding.digest_slot
    assert slot is not None
    return text[: slot.start] + slot.prefix + digest + slot.suffix + text[slot.end :]


def _findings(text: str) -> list[Finding]:
    return sorted(SCANNER.scan("kustomization.yaml", text), key=lambda f: f.start)


def test_entries_are_reported_at_the_part_that_changes() -> None:
    got = [
        (KUSTOMIZATION[f.start : f.end], f.context, f.reference_text, f.rewritable, f.note)
        for f in _findings(KUSTOMIZATION)
    ]
    flow_note = "the entry is not written one key per line; a digest cannot be added in place"
    assert got == [
        ("1.27", "images[0].newTag", "nginx:1.27", True, None),
        ("v2.13.0", "images[1].newTag", "ghcr.io/acme/argocd:v2.13.0", True, None),
        (
            "public.ecr.aws/docker/library/redis",
            "images[2].newName",
            "public.ecr.aws/docker/library/redis",
            False,
            NO_TAG,
        ),
        # images[3] (`busybox`, a name alone) names no image: not reported.
        ("v1", "images[4].newTag", f"app:v1@{DIGEST}", True, None),
        ("v2", "images[5].newTag", "empty:v2", True, None),
        ("v3", "images[6].newTag", "null-digest:v3", True, None),
        ("v4", "images[7].newTag", "flow:v4", False, flow_note),
    ]
    assert all(f.structured for f in _findings(KUSTOMIZATION))


def test_first_pin_adds_a_digest_line_after_the_entry() -> None:
    findings = _findings(KUSTOMIZATION)
    pinned = _apply(KUSTOMIZATION, findings[0])
    assert '  newTag: "1.27"   # web\n  digest: ' + DIGEST + "\n- name: quay.io" in pinned
    pinned = _apply(KUSTOMIZATION, findings[1])
    assert "  newTag: v2.13.0\n  digest: " + DIGEST + "\n- name: redis" in pinned


def test_an_existing_empty_or_null_digest_is_rewritten_in_its_slot() -> None:
    findings = _findings(KUSTOMIZATION)
    new = "sha256:" + "cd" * 32
    app, empty, null_digest = findings[3:6]  # `busybox` (a name alone) is not reported
    assert KUSTOMIZATION[app.digest_slot.start : app.digest_slot.end] == DIGEST  # type: ignore[union-attr]
    assert f"digest: {new}\n- name: empty" in _apply(KUSTOMIZATION, app, new)
    assert f'digest: "{new}"\n' in _apply(KUSTOMIZATION, empty, new)
    assert f"  digest: {new}\n- {{name: flow" in _apply(KUSTOMIZATION, null_digest, new)


def test_crlf_and_indentation_are_kept() -> None:
    text = "images:\r\n  - name: nginx\r\n    newTag: v1.27\r\nresources: []\r\n"
    (finding,) = _findings(text)
    assert (
        _apply(text, finding)
        == f"images:\r\n  - name: nginx\r\n    newTag: v1.27\r\n    digest: {DIGEST}\r\nresources: []\r\n"
    )


def test_a_digest_line_after_a_last_line_without_newline_ends_without_one() -> None:
    text = "images:\n- name: nginx\n  newTag: '1.27'"
    (finding,) = _findings(text)
    assert _apply(text, finding) == f"images:\n- name: nginx\n  newTag: '1.27'\n  digest: {DIGEST}"


def test_the_driver_gives_statuses_and_skips_a_bare_name() -> None:
    outcome = scan_text("kustomization.yaml", KUSTOMIZATION, scanners=[SCANNER])
    by_text = {o.text: o for o in outcome.occurrences}
    assert by_text["v1"].status.value == "pinned"
    assert by_text["1.27"].status.value == "unpinned"
    assert "busybox" not in by_text  # a name alone is not a reference


def test_escaped_tag_is_reported_where_written() -> None:
    text = 'images:\n- name: nginx\n  newTag: "1\\u002e27"\n'
    (finding,) = _findings(text)
    assert text[finding.start : finding.end] == '"1\\u002e27"'
    assert (finding.reference_text, finding.rewritable) == ("nginx:1.27", False)


@given(
    indent=st.integers(min_value=0, max_value=4),
    quote=st.sampled_from(["", '"', "'"]),
    newline=st.sampled_from(["\n", "\r\n"]),
    tag=st.from_regex(r"[a-z0-9][a-z0-9.-]{0,8}", fullmatch=True),
)
def test_the_span_holds_the_tag_and_the_digest_line_follows_it_whatever_the_layout(
    indent: int, quote: str, newline: str, tag: str
) -> None:
    pad = " " * indent
    text = newline.join(
        ["images:", f"{pad}- name: app", f"{pad}  newTag: {quote}{tag}{quote}", "resources: []", ""]
    )
    (finding,) = _findings(text)
    assert text[finding.start : finding.end] == tag
    if not quote and plain_scalar_type(tag) != "string":
        # kustomize reads a plain `1.27` or `no` as a number or a bool, and refuses the file.
        assert finding.invalid is not None and not finding.rewritable
        return
    pinned = _apply(text, finding)
    assert (
        f"{pad}  newTag: {quote}{tag}{quote}{newline}{pad}  digest: {DIGEST}{newline}resources"
        in pinned
    )
    (again,) = _findings(pinned)
    assert again.reference_text == f"app:{tag}@{DIGEST}"
