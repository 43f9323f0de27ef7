"""Result files written row by row, so that a crash or a kill loses nothing written.

Each finished run appends its rows and forces them to disk before the next is
written; every row is one line. A process killed mid-write can leave only an
incomplete last line, which :meth:`RowLog.open` removes on resume. When a sweep ends,
:meth:`RowLog.finalize` rewrites the file sorted (atomically: a temporary file
renamed), so the file does not depend on the order in which runs finished.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Callable, Iterable
from pathlib import Path

from abm.io import write_csv, write_rows


class RowLog:
    """An append-only CSV file of rows with fixed columns."""

    def __init__(self, path: Path, columns: list[str] | tuple[str, ...]):
        self.path = path
        self.columns = list(columns)

    def open(self, resume: bool) -> list[dict]:
        """Start the file (or, resuming, repair it and return the rows it holds)."""
        if resume and self.path.exists():
            self._repair()
            rows = self.read()
            with self.path.open() as handle:
                header = next(csv.reader(handle), None)
            if header != self.columns:
                raise ValueError(f"{self.path}: its columns differ from this experiment's; cannot resume into it")
            return rows
        self._write_all([])
        return []

    def _repair(self) -> None:
        data = self.path.read_bytes()
        if data and not data.endswith(b"\n"):
            with self.path.open("r+b") as handle:
                handle.truncate(data.rfind(b"\n") + 1)

    def read(self) -> list[dict]:
        if not self.path.exists():
            return []
        with self.path.open(newline="") as handle:
            return list(csv.DictReader(handle))

    def append(self, rows: Iterable[dict]) -> None:
        buffer = io.StringIO()
        write_rows(buffer, self.columns, rows, header=False)
        with self.path.open("a", newline="") as handle:
            handle.write(buffer.getvalue())
            handle.flush()
            os.fsync(handle.fileno())

    def keep_only(self, keep: Callable[[dict], bool]) -> None:
        """Drop rows (e.g. of runs whose summary row was never written)."""
        self._write_all([r for r in self.read() if keep(r)])

    def finalize(self, key: Callable[[dict], object]) -> None:
        """Rewrite sorted by ``key``, atomically."""
        self._write_all(sorted(self.read(), key=key))

    def _write_all(self, rows: list[dict]) -> None:
        write_csv(self.path, self.columns, rows)
