"""The org's SQLite file: records, custom field definitions and a few settings.

The org keeps everything in memory and writes through here, one transaction per batch, so
a restart finds the org as it was. WAL mode keeps batch commits cheap.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import IO, Any

from connector.errors import InputError

try:
    import fcntl
except ImportError:  # Windows: no advisory locks; one sandbox per file is on the user
    fcntl = None  # type: ignore[assignment]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS records (id TEXT PRIMARY KEY, sobject TEXT NOT NULL, data TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS custom_fields (
    id TEXT PRIMARY KEY, sobject TEXT NOT NULL, name TEXT NOT NULL, data TEXT NOT NULL
);
"""


def _claim(path: Path) -> IO[bytes]:
    """An exclusive lock beside the org file: two sandboxes on one file would diverge."""
    handle = open(path.with_name(path.name + ".lock"), "wb")  # noqa: SIM115 (held open)
    if fcntl is not None:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            raise InputError(
                f"Another sandbox is already serving {path}. Stop it, or give this one its "
                "own --data file."
            ) from None
    return handle


class OrgFile:
    """One SQLite file holding one org; safe to call from several threads."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self._lock_file: IO[bytes] | None = None
        if str(path) != ":memory:":
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._lock_file = _claim(self.path)
        self._lock = threading.Lock()
        try:
            self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(_SCHEMA)
        except sqlite3.DatabaseError as exc:
            self._release()
            raise InputError(
                f"{self.path} is not a sandbox org file ({exc}). Point --data at a new path or "
                "at a file an earlier sandbox wrote."
            ) from None

    def _release(self) -> None:
        if self._lock_file is not None:
            self._lock_file.close()  # closing drops the lock
            self._lock_file = None

    def close(self) -> None:
        with self._lock:
            self._db.close()
            self._release()

    def meta(self) -> dict[str, Any]:
        """Every stored setting, decoded."""
        with self._lock:
            rows = self._db.execute("SELECT key, value FROM meta").fetchall()
        return {k: json.loads(v) for k, v in rows}

    def records(self) -> Iterator[tuple[str, str, dict[str, Any]]]:
        """Every stored record as (id, sobject, fields), in insertion order."""
        with self._lock:
            rows = self._db.execute(
                "SELECT id, sobject, data FROM records ORDER BY rowid"
            ).fetchall()
        for record_id, sobject, data in rows:
            yield record_id, sobject, json.loads(data)

    def custom_fields(self) -> list[tuple[str, str, dict[str, Any]]]:
        """Every custom field definition as (field id, sobject, definition)."""
        with self._lock:
            rows = self._db.execute(
                "SELECT id, sobject, data FROM custom_fields ORDER BY rowid"
            ).fetchall()
        return [(fid, sobject, json.loads(data)) for fid, sobject, data in rows]

    def save(
        self,
        records: Iterable[tuple[str, str, Mapping[str, Any]]] = (),
        meta: Mapping[str, Any] | None = None,
        custom_fields: Iterable[tuple[str, str, str, Mapping[str, Any]]] = (),
        forget: Iterable[str] = (),
    ) -> None:
        """Write records, settings and custom fields, and drop `forget`, in one transaction."""
        record_rows = [(rid, sob, json.dumps(data)) for rid, sob, data in records]
        meta_rows = [(k, json.dumps(v)) for k, v in (meta or {}).items()]
        field_rows = [(fid, sob, name, json.dumps(d)) for fid, sob, name, d in custom_fields]
        forget_rows = [(rid,) for rid in forget]
        with self._lock:
            self._db.execute("BEGIN")
            try:
                if record_rows:
                    self._db.executemany(
                        "INSERT INTO records (id, sobject, data) VALUES (?, ?, ?) "
                        "ON CONFLICT(id) DO UPDATE SET data = excluded.data",
                        record_rows,
                    )
                if meta_rows:
                    self._db.executemany(
                        "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", meta_rows
                    )
                if field_rows:
                    self._db.executemany(
                        "INSERT OR REPLACE INTO custom_fields (id, sobject, name, data) "
                        "VALUES (?, ?, ?, ?)",
                        field_rows,
                    )
                if forget_rows:
                    self._db.executemany("DELETE FROM records WHERE id = ?", forget_rows)
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
