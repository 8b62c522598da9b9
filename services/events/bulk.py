"""Submitting many events at once from a CSV file: every row is checked first; nothing is
created unless all rows are good, or the caller asked to skip the bad ones.

Columns: title_<lang> (at least one; e.g. title_en, title_de), description_<lang>,
languages (codes separated by spaces), activity_type, city, country, venue, address,
latitude, longitude, timezone, start, end (local, e.g. 2022-12-01T17:00), start_offset,
end_offset, online_url, expected_participants, visibility, address_public,
address_public_hours. Empty cells count as not given.
"""
from __future__ import annotations

import csv
import io
import re

from marshmallow import ValidationError
from sqlalchemy.orm import Session

from services.events.local_events import check_event, check_submitter, submit
from services.events.models import Campaign
from services.events.schemas import LocalEventIn
from shared.bus.outbox import Outbox
from shared.errors import Invalid

LANGUAGE_COLUMN = re.compile(r"^(title|description)_([A-Za-z]{2})$")
MAX_ROWS = 5000


INTEGERS = ("expected_participants", "address_public_hours")
FLOATS = ("latitude", "longitude")


def _number(column: str, value: str):
    """CSV cells are text: numbers where numbers belong; what does not parse is left for
    the schema to report."""
    try:
        if column in INTEGERS:
            return int(value)
        if column in FLOATS:
            return float(value)
    except ValueError:
        pass
    return value


def _row_to_fields(record: dict) -> dict:
    fields: dict = {"title": {}, "description": {}}
    for column, value in record.items():
        if column is None or value is None or not value.strip():
            continue
        value = value.strip()
        match = LANGUAGE_COLUMN.match(column.strip())
        if match:
            fields[match.group(1)][match.group(2).lower()] = value
        elif column == "languages":
            fields["languages"] = [code for code in re.split(r"[\s,;]+", value) if code]
        else:
            fields[column.strip()] = _number(column.strip(), value)
    if not fields["title"]:
        fields.pop("title")
    return fields


def parse(text: str) -> tuple[list[tuple[int, dict]], list[dict]]:
    """Answer the rows the schema accepts, with their lines, and the errors of the others."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff"), newline=""))
    schema = LocalEventIn()
    good, errors = [], []
    while True:
        try:
            record = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:  # a cell too long, a stray line break: the file is not CSV here
            errors.append({"line": reader.line_num, "field": None, "message": f"not readable as CSV: {exc}."})
            break
        line = reader.line_num
        if len(good) + len({e["line"] for e in errors}) >= MAX_ROWS:
            errors.append({"line": line, "field": None, "message": f"a file may hold at most {MAX_ROWS} events."})
            break
        try:
            good.append((line, schema.load(_row_to_fields(record))))
        except ValidationError as exc:
            for field, messages in sorted(exc.messages.items()):
                for message in messages if isinstance(messages, list) else [str(messages)]:
                    errors.append({"line": line, "field": field, "message": str(message)})
    if not good and not errors:
        errors.append({"line": 1, "field": None, "message": "the file holds no events."})
    return good, errors


def submit_file(session: Session, outbox: Outbox, campaign: Campaign, organisation_id: str, text: str,
                skip_bad: bool) -> tuple[list, list[dict]]:
    """Answer (created events, errors of the rows left out)."""
    check_submitter(session, campaign, organisation_id)
    rows, errors = parse(text)
    checked = []
    for line, fields in rows:
        try:
            check_event(campaign, fields)
            checked.append(fields)
        except Invalid as exc:
            errors.extend({"line": line, **e} for e in exc.extra.get("errors", []))
    for error in errors:
        error.pop("location", None)
    if errors and not skip_bad:
        raise Invalid(f"{len({e['line'] for e in errors})} row(s) are not good; nothing was created. "
                      "Fix them, or send skip_bad=true.", errors=sorted(errors, key=lambda e: e["line"]))
    return [submit(session, outbox, campaign, organisation_id, fields) for fields in checked], errors
