"""Image references in GitLab CI: `image` and `services` of jobs, hidden jobs, `default` and the
top level, and the variables and component inputs those keys name.

`.gitlab-ci.yml`, `*.gitlab-ci.yml` and YAML under `.gitlab/` or `.gitlab-ci/` are read as GitLab
CI; any other YAML only when a document has the shape of one (jobs with `script`, `extends`, …).
Read with the other files of a pipeline (`link`), a top-level variable that another file's
image key names is reported where it is defined.

An image pulled through GitLab's Dependency Proxy (`${CI_DEPENDENCY_PROXY_GROUP_IMAGE_PREFIX}/
nginx:1.27`, or the `…DIRECT_GROUP…` prefix) is the Docker Hub image after the prefix: the
proxy fetches `library/nginx` (a name without `/` is an official image) from Docker Hub and
serves its manifest unchanged, by tag or by digest. It is reported from the character after
the prefix, so a pin writes the digest in place and keeps the prefix.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace

from pinbot.scanners._kinds import is_gitlab_path
from pinbot.scanners._yaml import (
    MappingNode,
    Node,
    ScalarNode,
    SequenceNode,
    entries,
    map_get,
    map_items,
    scalar_finding,
    scalar_or_key_finding,
)
from pinbot.scanners._yaml_kind import documents_if_yaml
from pinbot.scanners.interface import Finding

# Top-level keys that are not jobs (GitLab's global keywords, current and deprecated).
GLOBAL_KEYWORDS = frozenset(
    {
        "default",
        "include",
        "stages",
        "variables",
        "workflow",
        "spec",
        "image",
        "services",
        "cache",
        "before_script",
        "after_script",
        "types",
    }
)
# Keys that make a top-level mapping a job; used to recognise GitLab CI YAML by its shape.
JOB_KEYWORDS = frozenset({"script", "extends", "trigger", "before_script", "after_script", "stage"})
# Other tools' top-level keys: a document with any of them is not GitLab CI.
FOREIGN_KEYS = frozenset({"apiVersion", "kind", "pipelines", "steps", "orbs", "on"})

REFERENCE_TAG = "!reference"
_VARIABLE = re.compile(r"\$(?:\{(\w+)\}|(\w+))")
# GitLab's predefined Dependency Proxy prefixes (`host:port/group/dependency_proxy/containers`),
# with or without braces, and the `/` after them.
_PROXY_PREFIX = re.compile(
    r"\$(?:\{(CI_DEPENDENCY_PROXY_(?:DIRECT_)?GROUP_IMAGE_PREFIX)\}"
    r"|(CI_DEPENDENCY_PROXY_(?:DIRECT_)?GROUP_IMAGE_PREFIX)\b)/"
)
# A first path part that reads as a host (Docker's rule: `.` or `:` in it, or localhost, and a
# `/` after it) names another registry, which the proxy cannot reach.
_HOST_LIKE = re.compile(r"(?:localhost|[^/]*[.:][^/]*)/")
# Where a text may have a `variables` key: the word, an optional closing quote, then its
# colon after spaces, line breaks or comments (`? variables  # c` then `: …`).
_VARIABLES_KEY = re.compile(r"""variables['"]?(?:\s|#[^\n\r]*+)*+:""")
_INPUT = re.compile(r"\$\[\[\s*inputs\.([\w-]+)\s*\]\]")


def _variable_uses(name: str, text: str) -> int:
    """How often the file expands variable `name` (`$X`, `${X}`, and Windows `$env:X`, `%X%`)."""
    escaped = re.escape(name)
    return len(re.findall(rf"\$\{{?{escaped}\b|\$env:{escaped}\b|%{escaped}%", text))


def through_dependency_proxy(found: Finding, text: str) -> Finding:
    """A finding whose value is a Dependency Proxy prefix and a Docker Hub image, moved to the
    image after the prefix; any other finding as it was."""
    if found.reference_text is not None or not found.rewritable:
        return found
    prefix = _PROXY_PREFIX.match(text, found.start, found.end)
    if prefix is None:
        return found
    image = text[prefix.end() : found.end]
    if not image or "$" in image or "{" in image or _HOST_LIKE.match(image):
        return found  # templated, or not a Docker Hub path: reported whole, as written
    variable = prefix.group(1) or prefix.group(2)
    return replace(
        found,
        start=prefix.end(),
        context=f"{found.context} (Docker Hub through ${variable})",
    )


def looks_like_gitlab(document: Node) -> bool:
    """Whether a document has GitLab CI's shape: a job (or hidden job) among its top-level keys."""
    if not isinstance(document, MappingNode):
        return False
    entries = list(map_items(document))
    if any(key in FOREIGN_KEYS for key, _node, _value in entries):
        return False
    for key, _key_node, value in entries:
        if key in GLOBAL_KEYWORDS or not isinstance(value, MappingNode):
            continue
        keys = {name for name, _k, _v in map_items(value)}
        if keys & JOB_KEYWORDS:
            return True
        if key.startswith(".") and isinstance(map_get(value, "image"), (ScalarNode, MappingNode)):
            return True
    return False


@dataclass
class _Usage:
    """An image key whose whole value is one variable or input (`image: $CI_IMAGE`)."""

    context: str
    count: int = 0


@dataclass(frozen=True)
class _ImageUse:
    """An image key in one file whose whole value is one variable (`image: ${DOCS_IMAGE}`)."""

    path: str
    line: int


@dataclass
class _PipelineFile:
    """What one GitLab CI file contributes to links between the files of a pipeline."""

    path: str
    text: str
    top_level: dict[str, Finding] = field(default_factory=dict)  # `variables:` values, by name
    defined: Counter[str] = field(default_factory=Counter)  # `variables:` entries, any scope
    image_uses: dict[str, list[_ImageUse]] = field(default_factory=dict)


def _linked(
    found: Finding,
    name: str,
    path: str,
    uses: Sequence[_ImageUse],
    definitions: int,
    pipeline: Sequence[_PipelineFile],
) -> Finding | None:
    """The top-level definition of variable `name` in `path`, as the image keys of other files
    of the pipeline use it (`uses`, in any file); None when no other file does."""
    elsewhere = [use for use in uses if use.path != path]
    if not elsewhere:
        return None
    first = elsewhere[0]
    where = f"image of {first.path}:{first.line}"
    more = len(uses) - 1
    note = where + (f" and {more} more" if more else "")
    expansions = sum(_variable_uses(name, other.text) for other in pipeline)
    if definitions > 1:
        found = replace(
            found, rewritable=False, note=f"{note}; defined {definitions} times, not rewritten"
        )
    elif expansions > len(uses):
        # Pinning the value would change what the other uses (scripts, other keys) see.
        found = replace(
            found, rewritable=False, note=f"{note}; also used outside image keys, not rewritten"
        )
    else:
        found = replace(found, note=found.note or note)
    return replace(found, context=f"{found.context} ({where})")


def _any_of(words: Collection[str]) -> re.Pattern[str]:
    """An expression that finds any of `words`, their common beginnings written once: the
    expression engine tries each alternative at every character, and a shared beginning
    then costs one try instead of one per word (half the time for 49 variable names)."""
    if not words or max(map(len, words)) > _LONGEST_IN_TREE:  # the tree recurses per character
        return re.compile("|".join(map(re.escape, sorted(words))))
    return re.compile(_alternatives(sorted(set(words))))


_LONGEST_IN_TREE = 200


def _alternatives(words: list[str]) -> str:
    """The words (sorted, distinct) as one expression, grouped by their first character."""
    if words == [""]:
        return ""
    by_first: dict[str, list[str]] = {}
    for word in words:
        if word:
            by_first.setdefault(word[0], []).append(word[1:])
    branches = "|".join(re.escape(first) + _alternatives(rest) for first, rest in by_first.items())
    # A word that ends here (the empty rest sorts first) makes what follows optional.
    return f"(?:{branches})?" if words[0] == "" else f"(?:{branches})"


class GitLabCIScanner:
    kind = "gitlab-ci"

    def matches(self, path: str) -> bool:
        return path.endswith((".yml", ".yaml"))

    def scan(self, path: str, text: str) -> Iterator[Finding]:
        by_name = is_gitlab_path(path)
        documents, offset = documents_if_yaml(text, claimed=by_name)
        pipelines = [d for d in documents if by_name or looks_like_gitlab(d)]
        if not pipelines:
            return
        findings: dict[tuple[int, int], Finding] = {}
        variables: dict[str, _Usage] = {}
        inputs: dict[str, _Usage] = {}
        for document in pipelines:
            for finding in self._pipeline(document, text, offset):
                findings.setdefault((finding.start, finding.end), finding)
                written = finding.reference_text or text[finding.start : finding.end]
                self._note_usage(written.strip(), finding.context, variables, inputs)
        for document in documents:
            for finding in self._definitions(document, text, offset, variables, inputs):
                findings.setdefault((finding.start, finding.end), finding)
        proxied = (through_dependency_proxy(finding, text) for finding in findings.values())
        yield from sorted(proxied, key=lambda f: (f.start, f.end))

    def link(self, files: Mapping[str, str], paths: Collection[str]) -> dict[str, list[Finding]]:
        """Top-level variables in `paths` whose value another file's image key is (`include:`).

        Such a definition is rewritable only when it is the variable's one definition in the
        set and every expansion of the variable in the set is a whole image value; pinning it
        would change what any other expansion sees. A use in the defining file itself is the
        file's own scan's to report (`scan`), and the driver keeps that report.
        """
        read: dict[str, _PipelineFile | None] = {}

        def pipeline_file(path: str) -> _PipelineFile | None:
            if path not in read:
                read[path] = self._read(path, files[path])
            return read[path]

        # Only the files naming a variable defined at the top of a wanted file can bear on it:
        # most sets are read no further than the word `variables`.
        defining = [
            candidate
            for path in sorted(paths)
            if _VARIABLES_KEY.search(files[path])
            and (candidate := pipeline_file(path))
            and candidate.top_level
        ]
        names = {name for definitions in defining for name in definitions.top_level}
        # One pass over each text for all the names at once.
        naming = _any_of(names)
        pipeline = [
            candidate
            for path in (sorted(files) if names else ())
            if naming.search(files[path]) and (candidate := pipeline_file(path))
        ]
        defined: Counter[str] = Counter()
        image_uses: dict[str, list[_ImageUse]] = {}
        for member in pipeline:
            defined.update(member.defined)
            for name, uses in member.image_uses.items():
                image_uses.setdefault(name, []).extend(uses)
        linked: dict[str, list[Finding]] = {}
        for definitions in defining:
            for name, found in definitions.top_level.items():
                uses = image_uses.get(name, [])
                judged = _linked(found, name, definitions.path, uses, defined[name], pipeline)
                if judged is not None:
                    linked.setdefault(definitions.path, []).append(judged)
        return linked

    def _read(self, path: str, text: str) -> _PipelineFile | None:
        """A file's variables and whole-variable image keys, or None when it is not GitLab CI."""
        by_name = is_gitlab_path(path)
        documents, offset = documents_if_yaml(text, claimed=False)  # its own scan reports it
        pipelines = [d for d in documents if by_name or looks_like_gitlab(d)]
        if not pipelines:
            return None
        read = _PipelineFile(path, text)
        for document in pipelines:
            for finding in self._pipeline(document, text, offset):
                written = (finding.reference_text or text[finding.start : finding.end]).strip()
                variable = _VARIABLE.fullmatch(written)
                if variable is not None:
                    use = _ImageUse(path, text.count("\n", 0, finding.start) + 1)
                    read.image_uses.setdefault(variable.group(1) or variable.group(2), []).append(
                        use
                    )
            for key, _key_node, scope in entries(document):  # `default` and jobs
                if key != "variables":
                    variables = entries(map_get(scope, "variables"))
                    read.defined.update(name for name, _key, _value in variables)
            for name, _key, value in entries(map_get(document, "variables")):
                read.defined[name] += 1
                found = scalar_or_key_finding(value, "value", text, offset, f"variables.{name}")
                if found is not None:
                    read.top_level.setdefault(name, through_dependency_proxy(found, text))
        return read

    @staticmethod
    def _note_usage(
        value: str, context: str, variables: dict[str, _Usage], inputs: dict[str, _Usage]
    ) -> None:
        variable = _VARIABLE.fullmatch(value)
        if variable is not None:
            usage = variables.setdefault(variable.group(1) or variable.group(2), _Usage(context))
            usage.count += 1
        input_ = _INPUT.fullmatch(value)
        if input_ is not None:
            usage = inputs.setdefault(input_.group(1), _Usage(context))
            usage.count += 1

    def _pipeline(self, document: Node, text: str, offset: int) -> Iterator[Finding]:
        yield from self._image_keys(document, "", text, offset)
        yield from self._image_keys(map_get(document, "default"), "default.", text, offset)
        for key, _key_node, value in entries(document):
            if key not in GLOBAL_KEYWORDS:
                yield from self._image_keys(value, f"{key}.", text, offset)

    def _image_keys(self, job: Node | None, here: str, text: str, offset: int) -> Iterator[Finding]:
        if not isinstance(job, MappingNode):
            return
        found = scalar_or_key_finding(map_get(job, "image"), "name", text, offset, f"{here}image")
        if found is not None:
            yield found
        services = map_get(job, "services")
        if not isinstance(services, SequenceNode) or services.tag == REFERENCE_TAG:
            return
        for index, service in enumerate(services.value):
            where = f"{here}services[{index}]"
            found = scalar_or_key_finding(service, "name", text, offset, where)
            if found is not None:
                yield found

    def _definitions(
        self,
        document: Node,
        text: str,
        offset: int,
        variables: dict[str, _Usage],
        inputs: dict[str, _Usage],
    ) -> Iterator[Finding]:
        """The values of variables and component inputs that image keys name, as references."""
        if not isinstance(document, MappingNode):
            return
        if variables:
            scopes = [("", document), ("default.", map_get(document, "default"))]
            scopes += [(f"{key}.", value) for key, _k, value in entries(document)]
            for here, scope in scopes:
                for name, _key, value in entries(map_get(scope, "variables")):
                    usage = variables.get(name)
                    if usage is None:
                        continue
                    where = f"{here}variables.{name}"
                    found = scalar_or_key_finding(value, "value", text, offset, where)
                    if found is not None:
                        yield self._definition(found, usage, _variable_uses(name, text))
        spec_inputs = map_get(map_get(document, "spec"), "inputs")
        for name, _key, value in entries(spec_inputs):
            usage = inputs.get(name)
            if usage is None:
                continue
            found = scalar_finding(
                map_get(value, "default"), text, offset, f"spec.inputs.{name}.default"
            )
            if found is not None:
                uses = len(re.findall(rf"\$\[\[\s*inputs\.{re.escape(name)}\b", text))
                yield self._definition(found, usage, uses)

    @staticmethod
    def _definition(found: Finding, usage: _Usage, uses: int) -> Finding:
        note = f"image of {usage.context}"
        if uses > usage.count:
            # Pinning the value would change what the other uses (scripts, other keys) see.
            return replace(
                found, rewritable=False, note=f"{note}; also used outside image keys, not rewritten"
            )
        return replace(found, note=found.note or note)


SCANNER = GitLabCIScanner()
