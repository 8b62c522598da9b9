"""Importing organisations from a CSV file, idempotently.

Columns: abbreviation, name, name_en, country, timezone, and optionally languages (codes
separated by spaces, commas or semicolons), website, contact_email. Other columns (such as
`number` or `list` in a signatory list) are ignored. A row whose country and abbreviation
match an organisation already registered updates it; a re-run of the same file changes
nothing.
"""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from typing import Callable, Iterable

from marshmallow import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from services.registry import service
from services.registry.models import Organisation
from services.registry.schemas import OrganisationIn
from shared.auth import Principal
from shared.bus.outbox import Outbox
from shared.errors import Conflict

REQUIRED = ("abbreviation", "name", "name_en", "country", "timezone")
OPTIONAL = ("languages", "website", "contact_email")


@dataclass
class RowError:
    line: int
    field: str | None
    message: str

    def __str__(self) -> str:
        where = f"field {self.field}" if self.field else "row"
        return f"line {self.line}, {where}: {self.message}"


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)


class ImportRefused(Exception):
    """The file has bad rows and skipping them was not asked for; nothing was imported."""

    def __init__(self, errors: list[RowError]):
        super().__init__(f"{len(errors)} bad row(s); nothing imported")
        self.errors = errors


def parse(text: str) -> tuple[list[tuple[int, dict]], list[RowError]]:
    """Answer the valid rows (with their line numbers) and the errors of the others."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff"), newline=""))
    try:
        fieldnames = reader.fieldnames or []
    except csv.Error as exc:  # a stray line break, a cell too long: the file is not CSV here
        return [], [RowError(1, None, f"not readable as CSV: {exc}.")]
    missing = [c for c in REQUIRED if c not in fieldnames]
    if missing:
        return [], [RowError(1, name, "this column is missing from the header") for name in missing]
    header = set(fieldnames)
    schema = OrganisationIn()
    good: list[tuple[int, dict]] = []
    errors: list[RowError] = []
    seen: dict[tuple[str, str], int] = {}
    for record in _records(reader, errors):
        line = reader.line_num
        raw = {k: (record.get(k) or "").strip() for k in REQUIRED + OPTIONAL if k in record}
        if "languages" in raw:
            raw["languages"] = [x for x in re.split(r"[\s,;]+", raw["languages"]) if x]
        for optional in ("website", "contact_email"):
            if optional in raw and not raw[optional]:
                raw[optional] = None
        try:
            fields = schema.load(raw)
        except ValidationError as exc:
            for name, messages in sorted(exc.messages.items()):
                for message in messages if isinstance(messages, list) else [str(messages)]:
                    errors.append(RowError(line, name, str(message)))
            continue
        # A column the file lacks leaves that field as it is (a re-import keeps a contact
        # address the organisation set itself).
        fields = {k: v for k, v in fields.items() if k in REQUIRED or k in header}
        key = (fields["country"], service.abbreviation_key(fields["abbreviation"]))
        if key in seen:
            errors.append(RowError(line, "abbreviation", f"repeats line {seen[key]} ({key[0]} {fields['abbreviation']})"))
            continue
        seen[key] = line
        good.append((line, fields))
    return good, errors


def _records(reader: csv.DictReader, errors: list[RowError]):
    """The file's records, up to one that is not CSV (named as a bad row, and the end)."""
    while True:
        try:
            yield next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            errors.append(RowError(reader.line_num, None, f"not readable as CSV: {exc}."))
            return


def import_text(session: Session, outbox: Outbox, text: str, skip_bad: bool,
                actor: Principal | None = None) -> ImportReport:
    """Parse a file and import its good rows; with bad rows and `skip_bad` false, ImportRefused
    and nothing is imported (the API's and the dashboard's way; the CLI shows progress itself)."""
    rows, errors = parse(text)
    if errors and not skip_bad:
        raise ImportRefused(errors)
    report = ImportReport(errors=errors)
    import_rows(session, outbox, rows, report, skip_bad=skip_bad, actor=actor)
    return report


def import_rows(session: Session, outbox: Outbox, rows: Iterable[tuple[int, dict]],
                report: ImportReport, progress: Callable[[int], None] = lambda n: None,
                skip_bad: bool = True, actor: Principal | None = None) -> None:
    """A row that is, or looks like, another organisation is a bad row: left out (`skip_bad`),
    or ImportRefused, and the caller's transaction imports nothing. `actor`: the coordinator who
    sent the file (None: the operator's command line), on the record of each rename."""
    for line, fields in rows:
        existing = session.execute(select(Organisation).where(
            Organisation.country == fields["country"],
            Organisation.abbreviation_key == service.abbreviation_key(fields["abbreviation"]),
        )).scalar()
        try:  # the checks come before any write of the row
            if existing is None:
                service.register_organisation(session, outbox, fields)
                report.created += 1
            elif service.update_organisation(session, outbox, existing, fields, actor):
                report.updated += 1
            else:
                report.unchanged += 1
        except Conflict as conflict:
            named = conflict.extra.get("errors") or [{"field": "abbreviation"}]
            report.errors.append(RowError(line, named[0]["field"], conflict.detail))
            if not skip_bad:
                raise ImportRefused(report.errors) from None
        progress(1)
