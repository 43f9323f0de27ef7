"""Writing result files: one CSV cell format, atomic writes, and the provenance every
manifest carries.

Files are written to a temporary file and renamed over the target, so a crash never
leaves a half-written file; append-only files (:mod:`abm.sweep.store`) use the same
cell format. This module imports no model code.
"""

from __future__ import annotations

import contextlib
import csv
import functools
import hashlib
import json
import os
import platform
import subprocess
from collections.abc import Iterable
from importlib import metadata
from pathlib import Path


def csv_cell(value):
    """A value as written to every CSV file: floats to 10 decimals, text on one line."""
    if isinstance(value, float):
        return repr(round(float(value), 10))
    if isinstance(value, str):
        return value.replace("\r", " ").replace("\n", " | ")
    return value


def write_rows(handle, columns: list[str], rows: Iterable[dict], header: bool = True) -> None:
    """CSV rows of ``columns`` (other keys ignored, missing ones empty) to an open file."""
    writer = csv.DictWriter(handle, fieldnames=columns, extrasaction="ignore", lineterminator="\n")
    if header:
        writer.writeheader()
    for row in rows:
        writer.writerow({k: csv_cell(row.get(k)) for k in columns})


def write_csv(path: Path, columns: tuple[str, ...] | list[str], rows: Iterable[dict]) -> None:
    """Write rows atomically: a temporary file renamed over ``path``."""
    with atomic(path) as handle:
        write_rows(handle, list(columns), rows)


def write_json(path: Path, data) -> None:
    """Write JSON (indented, with a final newline) atomically."""
    with atomic(path) as handle:
        handle.write(json.dumps(data, indent=2) + "\n")


def write_text(path: Path, text: str) -> None:
    """Write text atomically."""
    with atomic(path) as handle:
        handle.write(text)


@contextlib.contextmanager
def atomic(path: Path):
    """A text handle on a temporary file that replaces ``path`` when the block ends.

    If writing fails (a full disk, a folder we may not write), the temporary file is
    removed, ``path`` keeps what it held, and the ``OSError`` names ``path``."""
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    try:
        with tmp.open("w", newline="") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise OSError(exc.errno, exc.strerror or str(exc), str(path)) from exc
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def project_checkout() -> Path | None:
    """The project's own git checkout, when the package runs from one (not an installed
    copy, which may sit inside some other repository): the package's parent folder,
    holding this project's ``pyproject.toml`` and the top of a git work tree."""
    root = Path(__file__).resolve().parent.parent
    pyproject = root / "pyproject.toml"
    try:
        ours = pyproject.is_file() and 'name = "citizen-security-abm"' in pyproject.read_text()
    except OSError:
        return None
    if not ours or not (root / ".git").exists():
        return None
    top = _git_in(root, "rev-parse", "--show-toplevel")
    return root if top is not None and Path(top).resolve() == root else None


def _git_in(folder: Path, *args: str) -> str | None:
    try:
        out = subprocess.run(["git", *args], cwd=folder, capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() if out.returncode == 0 else None


def _git(*args: str) -> str | None:
    root = project_checkout()
    return None if root is None else _git_in(root, *args)


def git_commit() -> str | None:
    """The project's git commit, only when the package runs from its own checkout."""
    return _git("rev-parse", "HEAD") or None


def git_dirty() -> bool | None:
    """Whether the checkout has uncommitted changes to tracked files (None outside git)."""
    status = _git("status", "--porcelain", "--untracked-files=no")
    return None if status is None else bool(status)


# Parts of the package that read results or arguments and make no rows.
NOT_HASHED = ("analysis", "viz", "cli.py", "bench.py", "__main__.py")


@functools.cache
def source_hash() -> str:
    """A hash of the Python source that makes the numbers, whether it runs from a
    checkout (committed or not) or from an installed copy: the whole package but the
    analysis (tables, figures, reports), the dashboard, the command line and the
    benchmark, which make none of the rows: a results folder can be resumed and
    analysed again after a change to how results are printed or analysed."""
    root = Path(__file__).resolve().parent
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        if path.relative_to(root).parts[0] in NOT_HASHED:
            continue
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def provenance() -> dict:
    """What every manifest starts with: package, version, git commit and whether the
    checkout had uncommitted changes (None outside the project's own checkout), and the
    versions of Python and of the libraries that decide the numbers."""
    from abm import __version__

    return {
        "package": "abm",
        "version": __version__,
        "git_commit": git_commit(),
        "git_dirty": git_dirty(),
        "source_hash": source_hash(),
        "python": platform.python_version(),
        "libraries": {name: _version(name) for name in ("mesa", "numpy", "networkx", "pydantic", "pandas")},
    }


def _version(distribution: str) -> str | None:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return None
