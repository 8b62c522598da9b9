"""A campaign's turnout: how many people came, per country, one figure per event."""
from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from services.media.models import EventCheckIns, KnownEvent, Report, country_holds
from services.media.reports import public_report_condition
from shared.country_holds import held_countries
from shared.db import utcnow


def per_country(session: Session, campaign_id: str) -> list[dict]:
    """The turnout per country, the largest first, one figure per event: the people counted
    at its door where the hosts checked anyone in, else its most recently published report
    that gives a figure (a host who reports again corrects it; several reports of one event
    never add up); and each report of no event. Only what the public may see counts: published
    reports, public events, countries not on hold. `reports`: the published reports."""
    published = (Report.campaign_id == campaign_id, public_report_condition(utcnow()))
    event_key = func.coalesce(Report.event_id, Report.id)
    latest = func.row_number().over(partition_by=event_key,
                                    order_by=(Report.published_at.desc(), Report.id.desc())).label("latest")
    reported = select(Report.country, event_key.label("key"), Report.turnout, latest).where(
        *published, Report.turnout.is_not(None)).subquery()
    figures = {key: (country, n) for country, key, n in session.execute(
        select(reported.c.country, reported.c.key, reported.c.turnout).where(reported.c.latest == 1))}
    figures.update({event_id: (country, n) for event_id, country, n in session.execute(
        select(KnownEvent.id, KnownEvent.country, EventCheckIns.checked_in)
        .join(EventCheckIns, EventCheckIns.event_id == KnownEvent.id)
        .where(KnownEvent.campaign_id == campaign_id, KnownEvent.status == "approved",
               KnownEvent.visibility == "public", KnownEvent.country.not_in(held_countries(country_holds)),
               EventCheckIns.checked_in > 0))})
    people: dict[str, int] = {}
    for country, n in figures.values():
        people[country] = people.get(country, 0) + n
    counted = dict(session.execute(select(Report.country, func.count()).where(*published).group_by(Report.country)).all())
    rows = [{"country": country, "reports": counted.get(country, 0), "turnout": people.get(country, 0)}
            for country in counted.keys() | people.keys()]
    return sorted(rows, key=lambda row: (-row["turnout"], row["country"]))
