"""Countries a coordinator put on hold (the events service's emergency stop), as the services
that publish something of a country learn it from the bus: while a country is held, they
publish nothing of it either (media: its reports; notify: its events to subscribers and to
organisations' webhooks). The reason stays in the events service: it may itself endanger
people."""
from __future__ import annotations

from sqlalchemy import Boolean, Column, MetaData, String, Table, select, update
from sqlalchemy.orm import Session

from shared.bus.consumer import Message
from shared.db import UTCDateTime


def add_country_holds_table(metadata: MetaData) -> Table:
    return Table("country_holds", metadata,
                 Column("country", String(2), primary_key=True),
                 Column("held", Boolean, nullable=False),
                 # The newest message applied, so a late, older one cannot undo it.
                 Column("as_of", UTCDateTime(), nullable=False))


def held_countries(table: Table):
    """A select of the held countries' codes, for `country.not_in(...)`."""
    return select(table.c.country).where(table.c.held.is_(True))


def country_hold_handlers(table: Table) -> dict:
    def setter(held: bool):
        def handle(session: Session, message: Message) -> None:
            country = message.data["country"]
            row = session.execute(select(table.c.as_of).where(table.c.country == country)).first()
            if row is None:
                session.execute(table.insert().values(country=country, held=held, as_of=message.occurred_at))
            elif message.occurred_at >= row.as_of:
                session.execute(update(table).where(table.c.country == country)
                                .values(held=held, as_of=message.occurred_at))

        return handle

    return {"country.held": setter(True), "country.released": setter(False)}
