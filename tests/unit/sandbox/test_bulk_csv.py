"""Bulk API 2.0 CSV dialects, result files, sf__Error text and the job store."""

from __future__ import annotations

from pathlib import Path

import pytest

from connector.sandbox import bulk_csv
from connector.sandbox.apierror import RecordError
from connector.sandbox.bulk_ingest import error_text
from connector.sandbox.bulk_jobs import BulkJob, JobStore


@pytest.mark.parametrize(("name", "char"), sorted(bulk_csv.DELIMITERS.items()))
def test_every_declared_delimiter_splits_columns(name: str, char: str) -> None:
    text = f"Name{char}Website\r\nAcme{char}acme.example\r\n"
    assert bulk_csv.read(text, name) == (["Name", "Website"], [["Acme", "acme.example"]])


def test_quoted_cells_keep_delimiters_and_newlines() -> None:
    header, rows = bulk_csv.read('Name,Description\n"A, Inc","line 1\nline 2"\n\n', "COMMA")
    assert header == ["Name", "Description"]
    assert rows == [["A, Inc", "line 1\nline 2"]]  # the blank line is skipped


def test_a_row_with_the_wrong_width_names_its_line() -> None:
    with pytest.raises(bulk_csv.CsvProblem, match="Row 3 has 3 columns but the header has 2"):
        bulk_csv.read("Name,Website\nA,a\nB,b,extra\n", "COMMA")


def test_empty_upload_and_bad_encoding_are_invalid_batches() -> None:
    with pytest.raises(bulk_csv.CsvProblem, match="InvalidBatch : The CSV has no header row"):
        bulk_csv.read("", "COMMA")
    with pytest.raises(bulk_csv.CsvProblem, match="not valid UTF-8"):
        bulk_csv.decode(b"Name\n\xff\n")
    assert bulk_csv.decode("\ufeffName\n".encode()) == "Name\n"


def test_result_files_quote_every_value_with_the_job_line_ending() -> None:
    text = bulk_csv.render(["sf__Id", "Name"], [["001", 'say "hi"']], "CRLF")
    assert text == '"sf__Id","Name"\r\n"001","say ""hi"""\r\n'
    assert bulk_csv.render_rows([["a", ""]], "LF", "PIPE") == '"a"|""\n'


def test_sf_error_lists_the_fields_and_ends_with_dashes() -> None:
    missing = RecordError(
        "REQUIRED_FIELD_MISSING", "Required fields are missing: [Name]", ("Name",)
    )
    assert error_text(missing) == (
        "REQUIRED_FIELD_MISSING:Required fields are missing: [Name]:Name --"
    )
    assert error_text(RecordError("UNABLE_TO_LOCK_ROW", "busy")) == "UNABLE_TO_LOCK_ROW:busy: --"


def _job(job_id: str = "7501C00000001AAAAA") -> BulkJob:
    return BulkJob(
        id=job_id,
        operation="upsert",
        object="Account",
        created_by_id="0051C00000001AAAAA",
        created_date="2026-11-23T10:00:00.000+0000",
        system_modstamp="2026-11-23T10:00:00.000+0000",
        api_version="59.0",
        external_id_field="Ext__c",
    )


def test_job_info_has_salesforce_keys_and_round_trips() -> None:
    job = _job()
    info = job.info()
    assert info["apiVersion"] == 59.0
    assert info["contentUrl"] == "services/data/v59.0/jobs/ingest/7501C00000001AAAAA/batches"
    assert info["externalIdFieldName"] == "Ext__c"
    assert "errorMessage" not in info
    assert BulkJob.from_json(job.to_json()) == job


def test_store_keeps_result_pieces_in_order_and_forgets_deleted_jobs(tmp_path: Path) -> None:
    store = JobStore(tmp_path / "org.db")
    job = _job()
    job.uploads = 1
    store.add_upload(job, b"Name\nA\n")
    store.add_results(job, {"successful": '"1"\n', "failed": ""})
    job.rows_done = 2
    store.add_results(job, {"successful": '"2"\n'})
    store.close()

    reopened = JobStore(tmp_path / "org.db")
    assert "".join(reopened.results(job.id, "successful")) == '"1"\n"2"\n'
    assert list(reopened.results(job.id, "failed")) == []
    assert [j.rows_done for j in reopened.jobs()] == [2]
    assert reopened.uploads(job.id) == [b"Name\nA\n"]
    reopened.delete(job.id)
    assert list(reopened.jobs()) == []
    assert reopened.uploads(job.id) == []
