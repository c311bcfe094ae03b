"""Bulk API 2.0 jobs: the job record Salesforce reports, and its storage beside the org.

Jobs, their uploaded CSV and their result files live in three tables of the org's SQLite
file (the org keeps its own tables there), so a restarted sandbox still answers for the
jobs it ran. Result files are stored in pieces as the job advances, each piece committed
together with the job's counters, so what is stored always matches what the job reports.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, Literal

INGEST_OPERATIONS = ("insert", "update", "upsert", "delete", "hardDelete")
QUERY_OPERATIONS = ("query", "queryAll")
TERMINAL_STATES = frozenset({"JobComplete", "Failed", "Aborted"})
ResultKind = Literal["successful", "failed", "unprocessed"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS bulk_jobs (id TEXT PRIMARY KEY, data TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS bulk_uploads (
    job_id TEXT NOT NULL, seq INTEGER NOT NULL, body BLOB NOT NULL, PRIMARY KEY (job_id, seq)
);
CREATE TABLE IF NOT EXISTS bulk_results (
    job_id TEXT NOT NULL, kind TEXT NOT NULL, seq INTEGER NOT NULL, body TEXT NOT NULL,
    PRIMARY KEY (job_id, kind, seq)
);
"""


@dataclass
class BulkJob:
    """One ingest or query job; `info()` is the JSON Salesforce's job resource returns."""

    id: str
    operation: str
    object: str
    created_by_id: str
    created_date: str
    system_modstamp: str
    api_version: str
    state: str = "Open"
    job_type: str = "V2Ingest"
    external_id_field: str | None = None
    content_type: str = "CSV"
    line_ending: str = "LF"
    column_delimiter: str = "COMMA"
    query: str | None = None
    number_records_processed: int = 0
    number_records_failed: int = 0
    retries: int = 0
    total_processing_time: int = 0
    api_active_processing_time: int = 0
    apex_processing_time: int = 0
    error_message: str | None = None
    uploads: int = 0
    rows_done: int = 0  # rows whose results are stored (a restart fails the job from here)
    header: list[str] = field(default_factory=list)

    @property
    def is_query(self) -> bool:
        return self.job_type == "V2Query"

    @property
    def path(self) -> str:
        return "query" if self.is_query else "ingest"

    def info(self) -> dict[str, Any]:
        """The job info body, every documented key present."""
        body: dict[str, Any] = {
            "id": self.id,
            "operation": self.operation,
            "object": self.object,
            "createdById": self.created_by_id,
            "createdDate": self.created_date,
            "systemModstamp": self.system_modstamp,
            "state": self.state,
            "concurrencyMode": "Parallel",
            "contentType": self.content_type,
            "apiVersion": float(self.api_version),
            "jobType": self.job_type,
            "lineEnding": self.line_ending,
            "columnDelimiter": self.column_delimiter,
            "numberRecordsProcessed": self.number_records_processed,
            "retries": self.retries,
            "totalProcessingTime": self.total_processing_time,
        }
        if self.is_query:
            body["query"] = self.query
        else:
            body["externalIdFieldName"] = self.external_id_field
            body["contentUrl"] = f"services/data/v{self.api_version}/jobs/ingest/{self.id}/batches"
            body["numberRecordsFailed"] = self.number_records_failed
            body["apiActiveProcessingTime"] = self.api_active_processing_time
            body["apexProcessingTime"] = self.apex_processing_time
        if self.error_message is not None:
            body["errorMessage"] = self.error_message
        return body

    def summary(self) -> dict[str, Any]:
        """The shorter entry the job list returns."""
        keys = ("id", "operation", "object", "createdById", "createdDate", "systemModstamp",
                "state", "concurrencyMode", "contentType", "apiVersion", "jobType",
                "lineEnding", "columnDelimiter", "externalIdFieldName", "contentUrl")  # fmt: skip
        info = self.info()
        return {k: info[k] for k in keys if k in info}

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> BulkJob:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


class JobStore:
    """Jobs, uploads and result pieces in the org's SQLite file; safe across threads."""

    def __init__(self, path: Path | str) -> None:
        self._lock = threading.Lock()
        self._db = sqlite3.connect(
            str(path), check_same_thread=False, isolation_level=None, timeout=30
        )
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _write(self, statements: list[tuple[str, tuple[Any, ...]]]) -> None:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                for sql, params in statements:
                    self._db.execute(sql, params)
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    @staticmethod
    def _job_row(job: BulkJob) -> tuple[str, tuple[Any, ...]]:
        return (
            "INSERT INTO bulk_jobs (id, data) VALUES (?, ?) "
            "ON CONFLICT(id) DO UPDATE SET data = excluded.data",
            (job.id, json.dumps(job.to_json())),
        )

    def save(self, job: BulkJob) -> None:
        """Store the job's current state."""
        self._write([self._job_row(job)])

    def jobs(self) -> Iterator[BulkJob]:
        """Every stored job, oldest first."""
        with self._lock:
            rows = self._db.execute("SELECT data FROM bulk_jobs ORDER BY rowid").fetchall()
        for (data,) in rows:
            yield BulkJob.from_json(json.loads(data))

    def add_upload(self, job: BulkJob, body: bytes) -> None:
        """Keep one uploaded CSV body (job.uploads already counts it) with the job."""
        self._write(
            [
                (
                    "INSERT OR REPLACE INTO bulk_uploads (job_id, seq, body) VALUES (?, ?, ?)",
                    (job.id, job.uploads, body),
                ),
                self._job_row(job),
            ]
        )

    def uploads(self, job_id: str) -> list[bytes]:
        """The job's uploaded bodies, in order."""
        with self._lock:
            rows = self._db.execute(
                "SELECT body FROM bulk_uploads WHERE job_id = ? ORDER BY seq", (job_id,)
            ).fetchall()
        return [bytes(body) for (body,) in rows]

    def add_results(self, job: BulkJob, pieces: Mapping[ResultKind, str]) -> None:
        """Append result rows and store the job's counters, in one transaction."""
        statements = [
            (
                "INSERT INTO bulk_results (job_id, kind, seq, body) VALUES (?, ?, "
                "(SELECT COALESCE(MAX(seq), 0) + 1 FROM bulk_results "
                "WHERE job_id = ? AND kind = ?), ?)",
                (job.id, kind, job.id, kind, body),
            )
            for kind, body in pieces.items()
            if body
        ]
        statements.append(self._job_row(job))
        self._write(statements)

    def results(self, job_id: str, kind: ResultKind) -> Iterator[str]:
        """The stored pieces of one result file (rows only, no header), in order."""
        with self._lock:
            rows = self._db.execute(
                "SELECT body FROM bulk_results WHERE job_id = ? AND kind = ? ORDER BY seq",
                (job_id, kind),
            ).fetchall()
        for (body,) in rows:
            yield body

    def delete(self, job_id: str) -> None:
        """Forget a job, its uploads and its results."""
        self._write(
            [
                ("DELETE FROM bulk_results WHERE job_id = ?", (job_id,)),
                ("DELETE FROM bulk_uploads WHERE job_id = ?", (job_id,)),
                ("DELETE FROM bulk_jobs WHERE id = ?", (job_id,)),
            ]
        )
