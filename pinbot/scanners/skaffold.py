"""Image references in Skaffold config: the images Skaffold runs or builds from.

`build.artifacts[].image`, `test[].image` and `deploy.docker.images` name the images the
project builds (outputs, not pinned). Reported: builder images (`googleCloudBuild.*Image`,
`kaniko.image`, buildpacks `builder`/`runImage`), base images (`jib`/`ko` `fromImage`) and the
containers of `verify` tests and `customActions`; in the top level and every profile.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterator

from pinbot.scanners._yaml import (
    MappingNode,
    Node,
    SequenceNode,
    compose_documents,
    map_get,
    scalar_dismissal,
    scalar_finding,
    scalar_value,
)
from pinbot.scanners.interface import Dismissal, Finding

GOOGLE_CLOUD_BUILD_IMAGES = (
    "dockerImage",
    "kanikoImage",
    "mavenImage",
    "gradleImage",
    "packImage",
    "koImage",
)
# artifact builder -> its keys that name an input image
ARTIFACT_IMAGES: tuple[tuple[str, str], ...] = (
    ("kaniko", "image"),
    ("buildpacks", "builder"),
    ("buildpacks", "runImage"),
    ("jib", "fromImage"),
    ("ko", "fromImage"),
)

_OUTPUT = "an image this project builds (an output), not one it pulls"


def _items(node: Node | None) -> list[Node]:
    return list(node.value) if isinstance(node, SequenceNode) else []


def _configs(text: str) -> Iterator[tuple[str, Node, int]]:
    """(context prefix, config, mark offset) of the top level and every profile of each
    Skaffold document."""
    documents, offset = compose_documents(text)
    for document in documents:
        if not isinstance(document, MappingNode):
            continue
        api = scalar_value(map_get(document, "apiVersion")) or ""
        if not api.startswith("skaffold/"):
            continue
        yield "", document, offset
        for index, profile in enumerate(_items(map_get(document, "profiles"))):
            yield f"profiles[{index}].", profile, offset


class SkaffoldScanner:
    kind = "skaffold"

    def matches(self, path: str) -> bool:
        name = posixpath.basename(path)
        return name.startswith("skaffold") and name.endswith((".yaml", ".yml"))

    def scan(self, path: str, text: str) -> Iterator[Finding]:
        findings: dict[tuple[int, int], Finding] = {}
        for here, config, offset in _configs(text):
            for finding in self._config(config, here, text, offset):
                findings.setdefault((finding.start, finding.end), finding)
        yield from sorted(findings.values(), key=lambda f: (f.start, f.end))

    def dismissals(self, path: str, text: str) -> Iterator[Dismissal]:
        """The images the project builds: outputs, named where they are written."""
        for here, config, offset in _configs(text):
            outputs: list[tuple[Node | None, str]] = []
            build = map_get(config, "build")
            for index, artifact in enumerate(_items(map_get(build, "artifacts"))):
                outputs.append(
                    (map_get(artifact, "image"), f"{here}build.artifacts[{index}].image")
                )
            for index, test in enumerate(_items(map_get(config, "test"))):
                outputs.append((map_get(test, "image"), f"{here}test[{index}].image"))
            docker = map_get(map_get(config, "deploy"), "docker")
            for index, image in enumerate(_items(map_get(docker, "images"))):
                outputs.append((image, f"{here}deploy.docker.images[{index}]"))
            for node, context in outputs:
                found = scalar_dismissal(node, text, offset, context, _OUTPUT)
                if found is not None:
                    yield found

    def _config(self, config: Node, here: str, text: str, offset: int) -> Iterator[Finding]:
        if not isinstance(config, MappingNode):
            return
        candidates: list[tuple[Node | None, str]] = []
        build = map_get(config, "build")
        gcb = map_get(build, "googleCloudBuild")
        for key in GOOGLE_CLOUD_BUILD_IMAGES:
            candidates.append((map_get(gcb, key), f"{here}build.googleCloudBuild.{key}"))
        step = map_get(gcb, "platformEmulatorInstallStep")
        candidates.append(
            (
                map_get(step, "image"),
                f"{here}build.googleCloudBuild.platformEmulatorInstallStep.image",
            )
        )
        for index, artifact in enumerate(_items(map_get(build, "artifacts"))):
            for builder, key in ARTIFACT_IMAGES:
                where = f"{here}build.artifacts[{index}].{builder}.{key}"
                candidates.append((map_get(map_get(artifact, builder), key), where))
        for index, test in enumerate(_items(map_get(config, "verify"))):
            where = f"{here}verify[{index}].container.image"
            candidates.append((map_get(map_get(test, "container"), "image"), where))
        for index, action in enumerate(_items(map_get(config, "customActions"))):
            for number, container in enumerate(_items(map_get(action, "containers"))):
                where = f"{here}customActions[{index}].containers[{number}].image"
                candidates.append((map_get(container, "image"), where))
        for node, context in candidates:
            found = scalar_finding(node, text, offset, context)
            if found is not None:
                yield found


SCANNER = SkaffoldScanner()
