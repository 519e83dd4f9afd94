"""The settle window's memory on disk: one small JSON file, read as hostile input and written
atomically (a temporary file in the same folder, renamed over the old one).

`pin` keeps it at `--state FILE` (default `$XDG_CACHE_HOME/pinbot/settle-state.json`, else
`~/.cache/pinbot/settle-state.json`); `run` in its `--cache-dir`, so the folder CI keeps
(`actions/cache`, a Kubernetes volume) keeps it too.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from pinbot.errors import PinbotError
from pinbot.settle import SettleState, SettleStateError, from_json, to_json

FILE_NAME = "settle-state.json"
#: A state file larger than this is not read (50,000 tags take about 8 MiB).
MAX_BYTES = 16 * 1024 * 1024


class StateFileError(PinbotError):
    """The state file could not be written: the next run would not know what it saw."""


def default_state_path(environ: Mapping[str, str] | None = None) -> Path:
    """`$XDG_CACHE_HOME/pinbot/settle-state.json`, else under `~/.cache`."""
    env = os.environ if environ is None else environ
    base = env.get("XDG_CACHE_HOME") or str(Path(env.get("HOME") or Path.home()) / ".cache")
    return Path(base) / "pinbot" / FILE_NAME


def state_path(cache_dir: Path | None, given: Path | None) -> Path:
    """Where a run keeps its state: `--state`, else in `--cache-dir`, else the default."""
    if given is not None:
        return given
    if cache_dir is not None:
        return cache_dir / FILE_NAME
    return default_state_path()


def load_state(path: Path) -> tuple[SettleState, str | None]:
    """The state at `path`, and why it could not be used when it could not.

    No file: an empty, trusted memory (pinbot has watched nothing yet). A file that cannot be
    read, is too large, or is not exactly what pinbot writes: an empty memory that is not
    trusted, so every new digest waits a whole window again.
    """
    try:
        with path.open("rb") as stream:
            data = stream.read(MAX_BYTES + 1)
    except FileNotFoundError:
        return SettleState(), None
    except OSError as exc:
        return SettleState(trusted=False), f"{path}: not readable ({exc.strerror or exc})"
    if len(data) > MAX_BYTES:
        return SettleState(trusted=False), f"{path}: larger than {MAX_BYTES} bytes"
    try:
        return from_json(data), None
    except SettleStateError as exc:
        return SettleState(trusted=False), f"{path}: {exc}"


def check_writable(path: Path) -> None:
    """Raise `StateFileError` unless a state file can be written at `path` (its folder is
    made when missing), so a run finds out before it starts, not after."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StateFileError(f"{path.parent}: cannot be made ({exc.strerror or exc})") from exc
    if path.is_dir() or not os.access(path.parent, os.W_OK):
        raise StateFileError(f"{path}: cannot be written")


def save_state(path: Path, state: SettleState) -> None:
    """Write the state atomically; `StateFileError` when it cannot be written."""
    temporary = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".settle-", suffix=".tmp")
        with os.fdopen(handle, "wb") as stream:
            stream.write(to_json(state))
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except OSError as exc:
        if temporary is not None:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
        raise StateFileError(f"{path}: cannot be written ({exc.strerror or exc})") from exc


@dataclass
class SettleMemory:
    """The state a run reads when it starts and writes when it ends, and why the file read
    could not be used (then the run waits again)."""

    path: Path
    state: SettleState
    unusable: str | None = None

    @classmethod
    def open(cls, path: Path) -> SettleMemory:
        """Read the state at `path`; `StateFileError` when it could not be written later."""
        check_writable(path)
        state, unusable = load_state(path)
        return cls(path, state, unusable)

    def keep(self, state: SettleState) -> None:
        """Write what the run saw; `StateFileError` when it cannot be written."""
        save_state(self.path, state)
        self.state = state
