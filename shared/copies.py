"""Copies of other services' facts, declared once.

What a service needs to know of another arrives as messages and is kept as a local copy: a
table, the handlers that feed it, and the rule that a late, older message changes nothing
(each row keeps `as_of`, the time of the newest message applied, and a message applies when
`occurred_at >= as_of`: the same message again changes nothing either). A service declares
the copy; this module derives the rest:

    ORGANISATIONS = Copy(Base, "known_organisations", model="KnownOrganisation",
                         columns={"abbreviation": String(40), "status": String(20)},
                         feeds={"organisation.registered": copied(),
                                "organisation.suspended": updates(status="suspended", missing="retry")})
    KnownOrganisation = ORGANISATIONS.model

- the table (with a declarative `Base`, a mapped class named `model`; with a `MetaData`, a
  Table): the `key` columns (default `id`, a UUID string), the copied `columns` (not null
  unless declared with `col(..., nullable=True)`), the service's `own` columns that messages
  never write, and `as_of`;
- a handler per message type in `feeds` (`copy.handlers`, for `shared.bus.handlers.Handlers`;
  `copy.apply(session, message)` runs one by hand);
- the newer-wins write in one statement: `insert … on conflict (key) do update … where
  as_of <= excluded.as_of` for a feed that may add the row (`copied`), `update … where
  as_of <= :as_of` for one that only changes a row that exists (`updates`).

A feed sets the key (from the data by name) and the columns it names: `fields` copied from
the data by name, `values` given as constants or functions of the message; a feed naming
none copies every column. `merge` says how a column combines its stored value with the new
row's, where not simply replaced (see notify's `closed_at`).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any, Callable, Mapping

from sqlalchemy import Column, MetaData, String, Table, bindparam, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from shared.bus.consumer import Message
from shared.db import UTCDateTime

AS_OF = "as_of"


@dataclass(frozen=True)
class Feed:
    """How one message type maps to a row of a copy (made by `copied` or `updates`)."""

    fields: tuple[str, ...] = ()
    values: Mapping[str, Any] = field(default_factory=dict)
    insert: bool = True
    # For a feed that only updates, a row not there: "skip" the message, or "retry" it later
    # (NotKnownYet: by then the message that adds the row will have come).
    missing: str = "skip"


class NotKnownYet(Exception):
    """A message about a row whose first message has not arrived yet: the consumer retries it."""


def copied(*fields: str, **values: Any) -> Feed:
    """Add the row, or update it unless it is newer than the message."""
    return Feed(fields, values)


def updates(*fields: str, missing: str = "skip", **values: Any) -> Feed:
    """Update the row unless it is newer than the message; a row not there is not added:
    the message is skipped, or with `missing="retry"` retried later."""
    if missing not in ("skip", "retry"):
        raise ValueError(f"missing is 'skip' or 'retry', not {missing!r}")
    return Feed(fields, values, insert=False, missing=missing)


@dataclass(frozen=True)
class ColumnSpec:
    type_: Any
    options: Mapping[str, Any]

    def column(self, name: str) -> Column:
        return Column(name, self.type_, **{"nullable": False, **self.options})


def col(type_, **options: Any) -> ColumnSpec:
    """A column with options (`nullable=True`, `default=list`); a bare type is not null."""
    return ColumnSpec(type_, options)


def _column(name: str, spec) -> Column:
    return (spec if isinstance(spec, ColumnSpec) else ColumnSpec(spec, {})).column(name)


class Copy:
    def __init__(self, target, name: str, *, columns: Mapping[str, Any], feeds: Mapping[str, Feed],
                 key: Mapping[str, Any] | None = None, own: Mapping[str, Any] | None = None,
                 merge: Mapping[str, Callable[[Any, Any], Any]] | None = None, model: str | None = None,
                 doc: str | None = None):
        self.name = name
        self.key = tuple(key or {"id": None})
        self.columns = tuple(columns)
        self.feeds = dict(feeds)
        self.merge = dict(merge or {})
        made = [Column(k, spec if spec is not None else String(36), primary_key=True)
                for k, spec in (key or {"id": None}).items()]
        made += [_column(n, spec) for n, spec in {**columns, **(own or {})}.items()]
        made.append(Column(AS_OF, UTCDateTime(), nullable=False))  # the newest message applied
        if isinstance(target, MetaData):
            self.model = None
            self.table = Table(name, target, *made, info={"copy": self})
        else:  # a declarative base: a mapped class, for the service's ORM queries
            namespace = {c.name: c for c in made}
            self.model = type(model or name, (target,), {
                "__tablename__": name, "__doc__": doc, "__module__": target.__module__,
                "__table_args__": {"info": {"copy": self}}, **namespace})
            self.table = self.model.__table__
        self.handlers = {type_: self.apply for type_ in self.feeds}
        self._statements: dict = {}

    def apply(self, session: Session, message: Message) -> bool:
        """Apply a message of one of the feeds' types; answer whether it changed the row."""
        feed = self.feeds[message.type]
        row = self.row(feed, message)
        applied = self.write(session, row, insert=feed.insert)
        if not applied and feed.missing == "retry" and not self._exists(session, row):
            raise NotKnownYet(f"{self.name}: {', '.join(str(row[k]) for k in self.key)} is not known yet")
        return applied

    def row(self, feed: Feed, message: Message) -> dict:
        data = message.data
        names = feed.fields or (() if feed.values else self.columns)
        row = {k: data[k] for k in self.key if k not in feed.values}
        row.update({n: data[n] for n in names})
        row.update({n: v(message) if callable(v) else v for n, v in feed.values.items()})
        row[AS_OF] = message.occurred_at
        return row

    def write(self, session: Session, row: dict, insert: bool = True) -> bool:
        """The newer-wins write of one row (its key, some columns and `as_of`), in one statement."""
        dialect = session.get_bind().dialect.name
        names = tuple(row)
        statement = self._statements.get((dialect, names, insert))
        if statement is None:  # built once per shape: building one costs more than running it
            statement = self._statements[(dialect, names, insert)] = self._build(dialect, names, insert)
        if insert:
            result = session.execute(statement, row)
        else:
            result = session.execute(statement, {f"v_{n}": value for n, value in row.items()})
        if self.model is not None:  # a copy loaded by the ORM in this session is out of date now
            loaded = session.identity_map.get(session.identity_key(self.model, tuple(row[k] for k in self.key)))
            if loaded is not None:
                session.expire(loaded)
        return result.rowcount > 0

    def _build(self, dialect: str, names: tuple[str, ...], insert: bool):
        t = self.table
        changed = [n for n in names if n not in self.key]
        if insert:
            statement = (pg_insert if dialect == "postgresql" else sqlite_insert)(t)
            new = statement.excluded
            return statement.on_conflict_do_update(
                index_elements=[t.c[k] for k in self.key],
                set_={n: self._merged(n, new) for n in changed},
                where=t.c[AS_OF] <= new[AS_OF])
        new = SimpleNamespace(**{n: bindparam(f"v_{n}", type_=t.c[n].type) for n in names})
        return (update(t).where(*(t.c[k] == getattr(new, k) for k in self.key), t.c[AS_OF] <= new.as_of)
                .values({n: self._merged(n, new) for n in changed}))

    def _merged(self, name: str, new):
        """`new` holds the new row's values (`excluded` in an upsert) as attributes."""
        if name in self.merge:
            return self.merge[name](self.table.c, new)
        return getattr(new, name)

    def _exists(self, session: Session, row: dict) -> bool:
        return session.execute(select(self.table.c[self.key[0]]).where(
            *(self.table.c[k] == row[k] for k in self.key))).first() is not None


def copy_of(table: Table) -> Copy:
    """The copy a table was derived from (for writes that do not come from a message)."""
    return table.info["copy"]
