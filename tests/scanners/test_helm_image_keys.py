"""Helm values: image maps whose tag is under `version`, and snake_case `*_image` keys.

Evidence: Helm gives values no schema; a chart's templates decide what a key means. Two
spellings are common enough that other extractors read them as images: Renovate's
helm-values manager documents `image: {repository, version}` beside `{repository, tag}` (its
templates write `{{ .Values.image.repository }}:{{ .Values.image.version }}`), and charts
written in snake_case name images `inline_image`, `sidecar_image` as camelCase ones write
`inlineImage`. Before, a `version` map was reported with "tag comes from the chart's
appVersion" (wrong: the map names its tag) and snake_case keys were not read at all.
"""

from __future__ import annotations

import pytest

from pinbot.config import PinConfig
from pinbot.plan import Lookup, plan
from pinbot.scanners import scan_text
from pinbot.scanners.helm import FROM_APP_VERSION, NO_DIGEST_FIELD

DIGEST = "sha256:" + "f" * 64

# (case, values.yaml, [(text at the span, context, reference, rewritable, note)])
CASES: list[tuple[str, str, list[tuple[str, str, str, bool, str | None]]]] = [
    (
        "version instead of tag, with a digest key to write",
        "image:\n  repository: ghcr.io/acme/api\n  version: 2.3.1\n  digest: ''\n",
        [("ghcr.io/acme/api", "image.repository", "ghcr.io/acme/api:2.3.1", True, None)],
    ),
    (
        "version instead of tag, no digest key",
        "image:\n  registry: quay.io\n  repository: acme/api\n  version: v2\n",
        [("acme/api", "image.repository", "quay.io/acme/api:v2", False, NO_DIGEST_FIELD)],
    ),
    (
        "name instead of repository, version instead of tag",
        "worker:\n  image:\n    registry: docker.io\n    name: acme/worker\n    version: '1.0'\n",
        [("acme/worker", "worker.image.name", "docker.io/acme/worker:1.0", False, NO_DIGEST_FIELD)],
    ),
    (
        "tag wins when both are written",
        "image: {repository: acme/api, tag: '3', version: '2'}\n",
        [("acme/api", "image.repository", "acme/api:3", False, NO_DIGEST_FIELD)],
    ),
    (
        "neither: the chart's appVersion",
        "image:\n  repository: acme/api\n",
        [("acme/api", "image.repository", "acme/api", False, FROM_APP_VERSION)],
    ),
    (
        "snake_case keys, a string and a map",
        "inline_image: nginx:1.18-alpine\nmetrics:\n  sidecar_image:\n    repository: prom/statsd-exporter\n"
        "    tag: v0.26.0\n    digest: ''\nimage_pull_policy: Always\nbase_images: [a:1]\n",
        [
            ("nginx:1.18-alpine", "inline_image", "nginx:1.18-alpine", True, None),
            (
                "prom/statsd-exporter",
                "metrics.sidecar_image.repository",
                "prom/statsd-exporter:v0.26.0",
                True,
                None,
            ),
        ],
    ),
    (
        "a snake_case key holding a setting, not a reference",
        "use_custom_image: true\nbuild_image: ''\n",
        [],
    ),
]


@pytest.mark.parametrize(
    ("text", "expected"), [pytest.param(text, found, id=case) for case, text, found in CASES]
)
def test_each_image_map_or_key_shape_gives_its_reference_context_and_note(
    text: str, expected: list[tuple[str, str, str, bool, str | None]]
) -> None:
    outcome = scan_text("values.yaml", text)
    assert outcome.errors == []
    assert [
        (o.text, o.context, o.reference_text, o.rewritable, o.note) for o in outcome.occurrences
    ] == expected


def test_a_version_map_gets_its_digest_beside_the_version() -> None:
    text = "image:\n  repository: ghcr.io/acme/api\n  version: 2.3.1\n"
    [occurrence] = scan_text("values.yaml", text).occurrences
    lookups = {"ghcr.io/acme/api:2.3.1": Lookup(DIGEST, verified=True)}
    [edit] = plan([occurrence], lookups, PinConfig(helm_insert_digest=True)).edits
    pinned = text[: edit.start] + edit.replacement + text[edit.end :]
    assert pinned == text + f"  digest: {DIGEST}\n"
