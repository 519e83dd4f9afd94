"""Fixtures for the Kustomize scanner: `images:` entries, reported at the part that changes."""

from __future__ import annotations

from tests.scanners.tables import Case, FixtureTable, Trap

PATH = "overlays/prod/kustomization.yaml"
DIGEST = "sha256:" + "ab" * 32

CASES = [
    Case(
        "a new tag, a new name and tag, a new name alone, a pinned entry",
        "images:\n- name: nginx\n  newTag: '1.27'\n- name: quay.io/argoproj/argocd\n"
        "  newName: ghcr.io/acme/argocd\n  newTag: v2.13.0\n- name: redis\n"
        "  newName: public.ecr.aws/docker/library/redis\n"
        f"- name: app\n  newTag: v1\n  digest: {DIGEST}\n",
        [
            ("1.27", "images[0].newTag"),
            ("v2.13.0", "images[1].newTag"),
            ("public.ecr.aws/docker/library/redis", "images[2].newName"),
            ("v1", "images[3].newTag"),
        ],
    ),
    Case(
        "a flow entry is reported",
        "images:\n- {name: flow, newTag: v4}\n",
        [("v4", "images[0].newTag")],
    ),
]

TRAPS = [
    Trap("a name alone names no image", "images:\n- name: busybox\n"),
    Trap(
        "entries without a name, and not mappings",
        "images:\n- not-a-map\n- newTag: no-name\n- 3\n",
    ),
    Trap(
        "Helm charts and resources are not images",
        "resources: [deploy.yaml]\nhelmCharts:\n- name: ingress-nginx\n"
        "  repo: https://kubernetes.github.io/ingress-nginx\n  version: 4.11.0\n",
    ),
]

# Counted by reading each file's `images:` list.
CORPUS = {
    # name + newName + newTag: latest.
    "argoproj__argo-cd/manifests/base/kustomization.yaml": 1,
    # name + newName without a tag: reported, not rewritable.
    "argoproj__argo-cd/manifests/base/redis/kustomization.yaml": 1,
    # eleven services with a placeholder newTag.
    "GoogleCloudPlatform__microservices-demo/kustomize/components/container-images-tag/kustomization.yaml": 11,
    # no images list at all.
    "prometheus-operator__kube-prometheus/kustomization.yaml": 0,
    # eleven entries with a name and no newName, newTag or digest (the component sets
    # `tagSuffix`): they name no image, so none is reported.
    "GoogleCloudPlatform__microservices-demo/kustomize/components/container-images-tag-suffix/kustomization.yaml": 0,
}

TABLE = FixtureTable(
    kind="kustomize",
    path=PATH,
    claims=["kustomization.yml", "base/Kustomization"],
    ignores=["kustomization.json", "values.yaml"],
    cases=CASES,
    traps=TRAPS,
    corpus=CORPUS,
)
