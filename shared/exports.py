"""Exports for coordinators: rows streamed as CSV, or written as an .xlsx workbook, in flat
memory whatever their number (a generator of rows in, a generator of bytes or a file out).

Cells are text people type (titles, cities, reasons): in a CSV, a cell that a spreadsheet would
take for a formula (`=`, `+`, `-`, `@`, a tab or a carriage return first) gets a leading `'`, as
OWASP's advice on CSV injection says; the .xlsx writes every text as a string, never a formula.
So opening an export never runs what an attacker wrote.
"""
from __future__ import annotations

import csv
import io
import os
import tempfile
from datetime import date, datetime
from typing import Iterable, Iterator, Sequence

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
CHUNK_ROWS = 500  # rows per piece of a CSV stream: a few tens of KB


def cell(value, guard: bool = True) -> str | int | float:
    """A value as an export shows it: numbers stay numbers, instants in ISO 8601, lists joined
    by spaces, text made safe from formula injection (`guard`; an .xlsx cell written as a
    string is never a formula, so it needs none)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return value
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        value = " ".join(str(v) for v in value)
    text = str(value)
    return "'" + text if guard and text.startswith(FORMULA_START) else text


def csv_stream(header: Sequence[str], rows: Iterable[Sequence]) -> Iterator[bytes]:
    """UTF-8 with a byte-order mark (so spreadsheet programs read Persian and Cyrillic right),
    the header first, then the rows in pieces of CHUNK_ROWS."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    buffer.write("\ufeff")
    writer.writerow(header)
    count = 0
    for row in rows:
        writer.writerow([cell(v) for v in row])
        count += 1
        if count % CHUNK_ROWS == 0:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode("utf-8")


def xlsx_file(header: Sequence[str], rows: Iterable[Sequence], sheet: str = "export") -> str:
    """An .xlsx workbook of the rows in a temporary file (its path: the caller sends and removes
    it), written row by row with xlsxwriter's constant memory mode."""
    import xlsxwriter

    handle, path = tempfile.mkstemp(suffix=".xlsx", prefix="doa-export-")
    os.close(handle)
    workbook = xlsxwriter.Workbook(path, {"constant_memory": True, "strings_to_formulas": False,
                                          "strings_to_urls": False, "strings_to_numbers": False})
    try:
        worksheet = workbook.add_worksheet(sheet[:31])
        bold = workbook.add_format({"bold": True})
        worksheet.write_row(0, 0, list(header), bold)
        for number, row in enumerate(rows, start=1):
            worksheet.write_row(number, 0, [cell(v, guard=False) for v in row])
    finally:
        workbook.close()
    return path


EXPORT_TYPES = {"csv": "text/csv; charset=utf-8",
                "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


def export_response(name: str, format_: str, header: Sequence[str], rows: Iterable[Sequence]):
    """The rows as a download named `<name>-<time>.<format>`: CSV streamed as it is read, or
    the .xlsx file once written (removed as soon as it is sent)."""
    from flask import Response, send_file, stream_with_context

    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    headers = {"Cache-Control": "no-store",
               "Content-Disposition": f'attachment; filename="{name}-{stamp}.{format_}"'}
    if format_ == "csv":
        return Response(stream_with_context(csv_stream(header, rows)), content_type=EXPORT_TYPES["csv"],
                        headers=headers)
    path = xlsx_file(header, rows, sheet=name)
    opened = open(path, "rb")  # noqa: SIM115 — the response closes it once sent
    os.unlink(path)  # the name goes now (POSIX): the open file stays readable until then
    response = send_file(opened, mimetype=EXPORT_TYPES["xlsx"])
    response.headers.update(headers)
    return response


def export_doc(description: str) -> dict:
    """The OpenAPI answer of an export (for `blueprint.doc(responses=…)`)."""
    return {"200": {"description": description,
                    "content": {kind.split(";")[0]: {"schema": {"type": "string", "format": "binary"}}
                                for kind in EXPORT_TYPES.values()},
                    "headers": {"Content-Disposition": {"description": "`attachment; filename=\"<name>-<time>.<format>\"`",
                                                        "schema": {"type": "string"}}}}}
