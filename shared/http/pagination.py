"""Key-set pagination: `limit` and an opaque `cursor`, so page 2,000 is as fast as page 1."""
from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime
from functools import lru_cache
from urllib.parse import urlencode

from flask import request
from marshmallow import Schema, fields, validate
from sqlalchemy import Select, bindparam, tuple_
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from shared.db import UTCDateTime
from shared.fields import unsafe_character
from shared.http.dump import FastSchema
from shared.http.problems import fail

DEFAULT_LIMIT = 50
MAX_LIMIT = 200


class PageArgs(Schema):
    limit = fields.Integer(load_default=DEFAULT_LIMIT, validate=validate.Range(min=1, max=MAX_LIMIT))
    cursor = fields.String(load_default=None, validate=validate.Length(max=500))


def _encode(values: list) -> str:
    packed = [["d", v.isoformat()] if isinstance(v, datetime) else ["v", v] for v in values]
    return base64.urlsafe_b64encode(json.dumps(packed).encode()).decode().rstrip("=")


def _decode(cursor: str, columns: list) -> list:
    """The values a cursor holds, each checked against its column: a cursor is opaque to
    clients but nothing stops one from forging it."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        packed = json.loads(raw)
        if not isinstance(packed, list) or len(packed) != len(columns):
            raise ValueError
        values = [_value(pair, column) for pair, column in zip(packed, columns, strict=True)]
    except (ValueError, TypeError, binascii.Error, RecursionError):
        fail(400, "The cursor is not one this list gave out; start again without it.",
             type_="bad-cursor", errors=[{"field": "cursor", "location": "query",
                                          "message": "Not a valid cursor."}])
    return values


def _value(pair, column):
    kind, value = pair
    if isinstance(column.type, UTCDateTime):
        if kind != "d" or not isinstance(value, str):
            raise ValueError
        moment = datetime.fromisoformat(value)
        if moment.tzinfo is None:
            raise ValueError
        return moment
    if kind != "v" or not isinstance(value, str) or unsafe_character(value) is not None:
        raise ValueError
    if len(value) > (getattr(column.type, "length", None) or 1000):
        raise ValueError
    return value


@lru_cache(maxsize=64)
def _after(order_by: tuple, descending: bool = False):
    """`(a, b) > (:after_0, :after_1)` (or `<` for newest first), built once per ordering (it
    is costly to build)."""
    keys = tuple_(*order_by)
    bound = tuple_(*[bindparam(f"after_{i}", type_=column.type) for i, column in enumerate(order_by)])
    return keys < bound if descending else keys > bound


def keyset_page(session: Session | Connection, stmt: Select, order_by: list, args: dict, descending: bool = False):
    """Answer (rows, next url). `order_by` columns end with a unique one, all ascending (or all
    descending: newest first); each is a date-time (UTCDateTime) or a string column."""
    limit = args["limit"]
    params = {}
    if args.get("cursor"):
        stmt = stmt.where(_after(tuple(order_by), descending))
        params = {f"after_{i}": value for i, value in enumerate(_decode(args["cursor"], order_by))}
    stmt = stmt.order_by(*(c.desc() for c in order_by) if descending else order_by).limit(limit + 1)
    # On a Connection: plain rows, read without the ORM (faster, for hot lists). On a Session,
    # select(Model) gives ORM objects and anything else rows.
    if isinstance(session, Connection):
        rows = session.execute(stmt, params).all()
    else:
        descriptions = stmt.column_descriptions
        if len(descriptions) == 1 and isinstance(descriptions[0].get("type"), type):
            rows = session.execute(stmt, params).scalars().all()
        else:
            rows = session.connection().execute(stmt, params).all()
    has_more = len(rows) > limit
    rows = rows[:limit]
    next_url = None
    if has_more:
        last = rows[-1]
        cursor = _encode([getattr(last, col.key) for col in order_by])
        query = [(k, v) for k, v in request.args.items(multi=True) if k != "cursor"]
        query.append(("cursor", cursor))
        next_url = f"{request.script_root}{request.path}?{urlencode(query)}"
    return rows, next_url


def page_body(items: list, next_url: str | None) -> dict:
    return {"items": items, "next": next_url}


def page_schema(item: type[Schema], name: str | None = None) -> type[Schema]:
    """A collection's answer, `{"items": [...], "next": url | null}` (docs/api.md, Lists), as an
    output schema: its items dumped by `item`, compiled (shared.http.dump.FastSchema)."""
    return FastSchema.from_dict({
        "items": fields.List(fields.Nested(item)),
        "next": fields.String(allow_none=True, metadata={"description": "The next page's URL; null on the last."}),
    }, name=name or f"{item.__name__.removesuffix('Out')}Page")


def lists(blp, page: type[Schema], query: type[Schema] = PageArgs):
    """A collection's GET: `limit`, `cursor` (and the filters of `query`) in, `page` out."""
    def decorate(view):
        return blp.arguments(query, location="query")(blp.response(200, page)(view))
    return decorate
