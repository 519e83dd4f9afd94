"""Where `check` names files from: the git top level, else the working directory."""

from __future__ import annotations

from pathlib import Path

from pinbot.report.location import RepositoryLocation, locate


def test_a_git_file_marks_a_worktree_or_submodule_root(tmp_path: Path) -> None:
    (tmp_path / "sub" / "deploy").mkdir(parents=True)
    (tmp_path / "sub" / ".git").write_text("gitdir: ../.git/modules/sub\n")
    assert locate(tmp_path / "sub" / "deploy", cwd=tmp_path) == RepositoryLocation(
        tmp_path / "sub", "deploy"
    )


def test_a_file_argument_is_located_by_its_folder(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "Dockerfile").write_text("FROM nginx\n")
    assert locate(tmp_path / "app" / "Dockerfile") == RepositoryLocation(tmp_path, "app")
    assert locate(tmp_path) == RepositoryLocation(tmp_path, "")


def test_a_folder_outside_any_repository_and_the_working_directory_names_from_itself(
    tmp_path: Path,
) -> None:
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "cwd").mkdir()
    found = locate(tmp_path / "elsewhere", cwd=tmp_path / "cwd")
    assert found == RepositoryLocation(tmp_path / "elsewhere", "")
