"""Result files written row by row, so that a crash or a kill loses nothing written.

Each finished run appends its rows (:class:`RowLog`, CSV; or :class:`PartLog`, one
Parquet file per run) and forces them to disk before the next is
written; every row is one line. A process killed mid-write can leave only an
incomplete last line, which :meth:`RowLog.open` removes on resume. When a sweep ends,
:meth:`RowLog.finalize` rewrites the file sorted (atomically: a temporary file
renamed), so the file does not depend on the order in which runs finished.
"""

from __future__ import annotations

import csv
import io
import os
import shutil
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


class PartLog:
    """A Parquet dataset written run by run: a folder with one file per run.

    Each run's rows go to ``part-RUN_ID.parquet``, written to a temporary file and
    renamed, so a kill leaves whole files only; a resumed sweep drops the parts of
    runs whose ``runs.csv`` row was never written. pandas, polars, DuckDB and Arrow
    read the folder as one table. The schema carries each column's unit (field
    metadata ``unit``, and ``abm.units`` in the schema's metadata).
    """

    def __init__(self, folder: Path, schema):
        self.path = folder
        self.schema = schema

    def open(self, resume: bool) -> None:
        if not resume and self.path.exists():
            shutil.rmtree(self.path)
        self.path.mkdir(parents=True, exist_ok=True)
        for stale in self.path.glob("*.tmp"):
            stale.unlink()

    def append(self, rows: list[dict]) -> None:
        if not rows:
            return
        import pyarrow as pa
        import pyarrow.parquet as pq

        target = self.path / f"part-{rows[0]['run_id']}.parquet"
        tmp = target.with_name(target.name + ".tmp")
        pq.write_table(pa.Table.from_pylist(rows, schema=self.schema), tmp)
        with tmp.open("rb") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, target)

    def run_ids(self) -> set[str]:
        return {p.name[len("part-"):-len(".parquet")] for p in self.path.glob("part-*.parquet")}

    def keep_only(self, keep: Callable[[dict], bool]) -> None:
        for run_id in self.run_ids():
            if not keep({"run_id": run_id}):
                (self.path / f"part-{run_id}.parquet").unlink()

    def finalize(self, key: Callable[[dict], object]) -> None:
        """Nothing to do: each part is one run's rows in order, and parts sort by run id."""

    def read(self) -> list[dict]:
        import pyarrow.parquet as pq

        return [row for part in sorted(self.path.glob("part-*.parquet")) for row in pq.read_table(part).to_pylist()]


def arrow_schema(columns: dict[str, str], units: dict[str, str], metadata: dict[str, str] | None = None):
    """An Arrow schema of ``columns`` (name: ``string``, ``int64`` or ``float64``) with
    each column's unit in its field metadata and all of them in the schema's."""
    import json

    import pyarrow as pa

    fields = [pa.field(name, getattr(pa, kind)(), metadata={"unit": units[name]} if units.get(name) else None)
              for name, kind in columns.items()]
    meta = {"abm.units": json.dumps({k: v for k, v in units.items() if k in columns}), **(metadata or {})}
    return pa.schema(fields, metadata=meta)


def require_pyarrow() -> None:
    try:
        import pyarrow  # noqa: F401
        import pyarrow.parquet  # noqa: F401
    except ImportError:
        raise RuntimeError("--format parquet needs pyarrow, which this installation lacks: pip install pyarrow") from None
