"""Bulk API 2.0 CSV: the dialects a job may declare, reading uploads, writing result files.

Pure functions. Salesforce's rules: UTF-8, a header row of field API names, any of six
column delimiters, LF or CRLF line endings; result files quote every value.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence

DELIMITERS: dict[str, str] = {
    "COMMA": ",",
    "TAB": "\t",
    "PIPE": "|",
    "SEMICOLON": ";",
    "CARET": "^",
    "BACKQUOTE": "`",
}
LINE_ENDINGS: dict[str, str] = {"LF": "\n", "CRLF": "\r\n"}
NULL_MARKER = "#N/A"  # a cell meaning "set this field to null"
MAX_UPLOAD_BYTES = 150 * 1024 * 1024  # what Salesforce accepts after base64 encoding


class CsvProblem(ValueError):
    """An upload Salesforce would reject as a whole; the message is the job's errorMessage."""


def decode(data: bytes) -> str:
    """The upload as text (UTF-8, a byte-order mark dropped)."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CsvProblem(
            f"InvalidBatch : The CSV is not valid UTF-8 (byte {exc.start}); save it as UTF-8 "
            "and upload it to a new job."
        ) from None
    return text.removeprefix("\ufeff")


def read(text: str, delimiter: str) -> tuple[list[str], list[list[str]]]:
    """(header, rows) of an upload; blank lines skipped; a short or long row is an error."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=DELIMITERS[delimiter])
    try:
        header = next(reader)
    except StopIteration:
        raise CsvProblem("InvalidBatch : The CSV has no header row.") from None
    except csv.Error as exc:
        raise CsvProblem(f"InvalidBatch : The CSV header cannot be read: {exc}.") from None
    header = [h.strip() for h in header]
    if not any(header):
        raise CsvProblem("InvalidBatch : The CSV header row is empty.")
    rows: list[list[str]] = []
    width = len(header)
    try:
        for row in reader:
            if not row:
                continue
            if len(row) != width:
                raise CsvProblem(
                    f"InvalidBatch : Row {reader.line_num} has {len(row)} columns but the "
                    f"header has {width}; check the delimiter and quoting."
                )
            rows.append(row)
    except csv.Error as exc:
        raise CsvProblem(f"InvalidBatch : Row {reader.line_num} cannot be read: {exc}.") from None
    return header, rows


def render(
    header: Sequence[str],
    rows: Iterable[Sequence[str]],
    line_ending: str = "LF",
    delimiter: str = "COMMA",
) -> str:
    """A result file: every value double-quoted, the job's line ending."""
    return render_rows([header], line_ending, delimiter) + render_rows(rows, line_ending, delimiter)


def render_rows(
    rows: Iterable[Sequence[str]], line_ending: str = "LF", delimiter: str = "COMMA"
) -> str:
    """Result rows without a header (result files are stored in pieces, header added on read)."""
    out = io.StringIO()
    writer = csv.writer(
        out,
        delimiter=DELIMITERS[delimiter],
        quoting=csv.QUOTE_ALL,
        lineterminator=LINE_ENDINGS.get(line_ending, "\n"),
    )
    writer.writerows(rows)
    return out.getvalue()
