"""Countries a coordinator put on hold (the events service's emergency stop), as the services
that publish something of a country learn it from the bus: while a country is held, they
publish nothing of it either (media: its reports; notify: its events to subscribers and to
organisations' webhooks). The reason stays in the events service: it may itself endanger
people."""
from __future__ import annotations

from sqlalchemy import Boolean, MetaData, String, Table, select

from shared.copies import Copy, copied


def country_holds_copy(metadata: MetaData) -> Copy:
    """The copy (table `country_holds`: country, held, as_of) and its handlers."""
    return Copy(metadata, "country_holds", key={"country": String(2)}, columns={"held": Boolean},
                feeds={"country.held": copied(held=True), "country.released": copied(held=False)})


def add_country_holds_table(metadata: MetaData) -> Table:
    """The copy's table alone (the migrations that create it)."""
    return country_holds_copy(metadata).table


def held_countries(table: Table):
    """A select of the held countries' codes, for `country.not_in(...)`."""
    return select(table.c.country).where(table.c.held.is_(True))
