"""Gitpod scanner: the workspace image of `.gitpod.yml`."""

from __future__ import annotations

from pinbot.scanners import Status, scan_text


def test_an_unpinned_workspace_image_is_reported_unpinned() -> None:
    (occurrence,) = scan_text(".gitpod.yml", "image: gitpod/workspace-full\n").occurrences
    assert (occurrence.kind, occurrence.status) == ("gitpod", Status.UNPINNED)


