"""Image references in Gitpod workspace config: `.gitpod.yml`'s `image`.

`image: {file: .gitpod.Dockerfile}` names a Dockerfile (read by the Dockerfile scanner), not an image.
"""

from __future__ import annotations

from collections.abc import Iterator

from pinbot.scanners._yaml import Node
from pinbot.scanners._yaml_kind import YamlKind, image_field
from pinbot.scanners.interface import Finding


class GitpodScanner(YamlKind):
    kind = "gitpod"
    file_names = (".gitpod.yml", ".gitpod.yaml")
    documents = slice(1)

    def document(self, document: Node, text: str, offset: int) -> Iterator[Finding]:
        return image_field(document, text, offset, "image")


SCANNER = GitpodScanner()
