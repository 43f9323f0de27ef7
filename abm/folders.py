"""Results folders: each holds one run or one experiment, complete, from one writer.

A command never writes into its output folder directly. It takes a lock beside the
folder (``.NAME.lock``), so that a second writer is refused at once; it writes
everything into a staging folder beside it (``NAME.partial``); and when the work is
complete it renames the staging folder into place. So a folder holding results is
only ever replaced whole, and only when asked (``--force``): a failed write, a crash
or a kill leaves the previous results as they were. An experiment that is cut off
keeps its finished runs in the staging folder, where ``--resume`` finds them.

Every manifest says what the folder holds (``kind``: ``run``, ``experiment`` or
``calibration``) and whether it is complete (``status``). An experiment's manifest also holds the identity
of its rows (:func:`abm.sweep.runner.identity`) and its fingerprint, so that rows of
two different experiments never share a folder.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

from abm.schema import ConfigError

MANIFEST = "manifest.json"
KINDS = ("run", "experiment", "calibration")
RUNNING, COMPLETE = "running", "complete"
# Files that mark a folder written by this tool before manifests said their kind.
RESULT_FILES = ("runs.csv", "summary.csv")


def read_manifest(folder: Path) -> dict | None:
    """The folder's manifest, or None when it has none.

    Raises:
        ConfigError: the manifest is not a JSON object.
    """
    path = Path(folder) / MANIFEST
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not a text file (JSON must be UTF-8)") from None
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{path}: malformed JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}") from None
    except RecursionError:
        raise ConfigError(f"{path}: nested too deeply to be a manifest") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a JSON object, got {type(data).__name__}")
    return data


def kind_of(folder: Path) -> str | None:
    """``run`` or ``experiment`` for a results folder; None for anything else."""
    manifest = read_manifest(folder)
    if manifest is None:
        return None
    if manifest.get("kind") in KINDS:
        return manifest["kind"]
    if (Path(folder) / "runs.csv").exists():
        return "experiment"
    if (Path(folder) / "summary.csv").exists():
        return "run"
    return None


def is_empty(folder: Path) -> bool:
    return not folder.exists() or (folder.is_dir() and not any(folder.iterdir()))


class ResultsFolder:
    """The output folder of one command: locked, staged beside, moved into place.

    Use as a context manager: entering takes the lock (or raises ``ConfigError`` when
    another process holds it), leaving releases it::

        with ResultsFolder(out, "run") as folder:
            folder.check_replaceable(force)
            stage = folder.start()
            ...                      # write into stage
            folder.commit()          # stage replaces out, whole
    """

    def __init__(self, target: Path, kind: str):
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}")
        self.target = Path(target)
        self.kind = kind
        self.staging = self.target.with_name(self.target.name + ".partial")
        self.lockfile = self.target.with_name("." + self.target.name + ".lock")
        self._lock = None

    def __enter__(self) -> ResultsFolder:
        from filelock import FileLock, Timeout

        if self.target.exists() and not self.target.is_dir():
            raise ConfigError(f"--out {self.target}: exists and is not a folder")
        self.target.parent.mkdir(parents=True, exist_ok=True)
        lock = FileLock(self.lockfile, timeout=0)
        try:
            lock.acquire()
        except Timeout:
            raise ConfigError(f"--out {self.target}: another abm process is writing it (it holds "
                              f"{self.lockfile}); wait for it to finish, or choose another --out") from None
        self._lock = lock
        return self

    def __exit__(self, *exc) -> None:
        if self._lock is not None:
            self._lock.release()
            self._lock = None

    def check_replaceable(self, force: bool, hint: str = "") -> None:
        """Refuse unless the target is absent, empty, or results that ``force`` may replace.

        A folder holding anything but this tool's results is never replaced, even with
        ``force``: ``--out .`` must not wipe a project.
        """
        check_replaceable(self.target, force, self.kind, hint)

    def start(self) -> Path:
        """A fresh, empty staging folder (any earlier one removed)."""
        self.discard()
        self.staging.mkdir(parents=True)
        return self.staging

    def discard(self) -> None:
        """Remove the staging folder."""
        if self.staging.exists():
            shutil.rmtree(self.staging)

    def commit(self) -> None:
        """Move the staging folder into place, replacing the target whole."""
        if self.target.exists() and not is_empty(self.target):
            old = self.target.with_name(f".{self.target.name}.old-{os.getpid()}")
            os.rename(self.target, old)
            os.rename(self.staging, self.target)
            shutil.rmtree(old)
        else:
            if self.target.exists():
                self.target.rmdir()
            os.rename(self.staging, self.target)


def check_replaceable(target: Path, force: bool, kind: str, hint: str = "") -> None:
    """Raise ``ConfigError`` unless ``target`` may receive new results of ``kind``."""
    target = Path(target)
    if target.exists() and not target.is_dir():
        raise ConfigError(f"--out {target}: exists and is not a folder")
    if is_empty(target):
        return
    held = kind_of(target)
    if held is None:
        raise ConfigError(f"--out {target}: holds files that are not abm results; choose another folder")
    if not force:
        what = {"experiment": "an experiment's", "calibration": "a calibration's"}.get(held, "a run's")
        raise ConfigError(f"--out {target}: already holds {what} results; add --force to replace them"
                          + (f" {hint}" if hint else ""))
