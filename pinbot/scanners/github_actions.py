"""Image references in GitHub Actions: workflow job containers and services, `docker://` steps,
and Docker actions' `runs.image`.

`uses: owner/repo@ref` names an action, not an image, and is left alone; only `docker://`
references are images. Expressions (`${{ … }}`) are reported and the driver marks them templated.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterator

from pinbot.scanners._yaml import (
    MappingNode,
    Node,
    SequenceNode,
    compose_documents,
    entries,
    map_get,
    scalar_finding,
    scalar_or_key_finding,
    scalar_value,
)
from pinbot.scanners.interface import Finding

DOCKER_SCHEME = "docker://"

# Action inputs documented as an image reference: (action without ref, input name).
IMAGE_INPUTS: frozenset[tuple[str, str]] = frozenset({("docker/setup-qemu-action", "image")})

# Action inputs made of `key=value` options, one of which may be `image=`: buildx's driver
# options pick the BuildKit image (`image=moby/buildkit:v0.23.0`), one option a line or comma-separated.
OPTION_INPUTS: frozenset[tuple[str, str]] = frozenset(
    {("docker/setup-buildx-action", "driver-opts")}
)
_IMAGE_OPTION = re.compile(r"""(?:^|(?<=[\s,"']))image=([^\s,"']+)""", re.MULTILINE)


def _option_findings(node: Node, text: str, offset: int, context: str) -> Iterator[Finding]:
    """`image=` options inside a scalar of `key=value` options (plain, quoted or block)."""
    value = scalar_value(node)
    if value is None or "image=" not in value:
        return
    wanted = {match.group(1) for match in _IMAGE_OPTION.finditer(value)}
    start = node.start_mark.index + offset
    written = text[start : node.end_mark.index + offset]
    for match in _IMAGE_OPTION.finditer(written):
        # Backslashes could be escapes in a double-quoted scalar: then the text is not the value.
        if match.group(1) in wanted and "\\" not in match.group(1):
            yield Finding(start + match.start(1), start + match.end(1), context)


def _action_name(uses: str) -> str:
    return uses.split("@", 1)[0].strip().lower()


class GitHubActionsScanner:
    kind = "github-actions"

    def matches(self, path: str) -> bool:
        directory, name = posixpath.split(path)
        if name in ("action.yml", "action.yaml"):
            return True
        return name.endswith((".yml", ".yaml")) and (
            directory == ".github/workflows" or directory.endswith("/.github/workflows")
        )

    def scan(self, path: str, text: str) -> Iterator[Finding]:
        documents, offset = compose_documents(text)
        seen: set[tuple[int, int]] = set()
        for document in documents:
            for finding in self._document(document, text, offset):
                if (finding.start, finding.end) not in seen:
                    seen.add((finding.start, finding.end))
                    yield finding

    def _document(self, document: Node, text: str, offset: int) -> Iterator[Finding]:
        if not isinstance(document, MappingNode):
            return
        for job_id, _key, job in entries(map_get(document, "jobs")):
            yield from self._job(job_id, job, text, offset)
        runs = map_get(document, "runs")
        if isinstance(runs, MappingNode):
            # A Docker action: `image` is a Dockerfile path unless it carries the docker:// scheme.
            found = scalar_finding(
                map_get(runs, "image"), text, offset, "runs.image", prefix=DOCKER_SCHEME
            )
            if found is not None:
                yield found
            yield from self._steps(map_get(runs, "steps"), "runs.steps", text, offset)

    def _job(self, job_id: str, job: Node, text: str, offset: int) -> Iterator[Finding]:
        if not isinstance(job, MappingNode):
            return
        here = f"jobs.{job_id}"
        container = map_get(job, "container")
        found = scalar_or_key_finding(container, "image", text, offset, f"{here}.container")
        if found is not None:
            yield found
        for service_id, _key, service in entries(map_get(job, "services")):
            where = f"{here}.services.{service_id}"
            found = scalar_or_key_finding(service, "image", text, offset, where)
            if found is not None:
                yield found
        yield from self._steps(map_get(job, "steps"), f"{here}.steps", text, offset)

    def _steps(self, steps: Node | None, here: str, text: str, offset: int) -> Iterator[Finding]:
        if not isinstance(steps, SequenceNode):
            return
        for index, step in enumerate(steps.value):
            if not isinstance(step, MappingNode):
                continue
            uses_node = map_get(step, "uses")
            found = scalar_finding(
                uses_node, text, offset, f"{here}[{index}].uses", prefix=DOCKER_SCHEME
            )
            if found is not None:
                yield found
                continue
            uses = scalar_value(uses_node)
            if uses is None:
                continue
            action = _action_name(uses)
            for name, _key, value in entries(map_get(step, "with")):
                where = f"{here}[{index}].with.{name}"
                if (action, name) in IMAGE_INPUTS:
                    found = scalar_finding(value, text, offset, where)
                    if found is not None:
                        yield found
                elif (action, name) in OPTION_INPUTS:
                    yield from _option_findings(value, text, offset, where)


SCANNER = GitHubActionsScanner()
