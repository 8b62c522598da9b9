"""Reports after the day: organisations send them with their media, coordinators publish or
reject them, and only what is published — with its processed, consented media of events
that have ended — is ever public. Each use case takes a session and commits nothing."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, exists, func, select
from sqlalchemy.orm import Session

from services.media.models import KnownCampaign, KnownEvent, Material, MediaItem, Report, ReportMedia, country_holds
from shared.auth import Principal
from shared.bus.outbox import Outbox
from shared.country_holds import held_countries
from shared.db import utcnow
from shared.errors import Conflict, Forbidden, Invalid, NotFound
from shared.ids import refuse_unknown
from shared.languages import pick_language

MESSAGE_FIELDS = ("id", "campaign_id", "event_id", "organisation_id", "country", "title", "language", "turnout",
                  "status")
NEEDS_CONSENT = ("photo", "video")  # the kinds that show people


def message_data(report: Report) -> dict:
    return {f: getattr(report, f) for f in MESSAGE_FIELDS}


def _invalid(field: str, message: str) -> Invalid:
    return Invalid(message, errors=[{"field": field, "location": "json", "message": message}])


def check_languages(title: dict, text: dict) -> None:
    """A report's texts are in its titles' languages (or fewer), and its original language —
    the titles' first — has one."""
    extra = [code for code in text if code not in title]
    if extra:
        raise _invalid("text", f"No title in {', '.join(extra)}: give each text's language a title too.")
    original = next(iter(title))
    if original not in text:
        raise _invalid("text", f"The text is missing in the original language ({original}), the title's first.")


def _attachable(session: Session, media_ids: list[str], organisation_id: str, campaign_id: str,
                event_id: str | None) -> None:
    if len(set(media_ids)) != len(media_ids):
        raise _invalid("media_ids", "A media item is named twice.")
    found = {m.id: m for m in session.execute(select(MediaItem).where(MediaItem.id.in_(media_ids))).scalars()}
    for media_id in media_ids:
        item = found.get(media_id)
        if item is None or item.organisation_id != organisation_id:
            raise _invalid("media_ids", f"{media_id} is not one of the organisation's uploads.")
        if item.campaign_id != campaign_id:
            raise _invalid("media_ids", f"{media_id} was uploaded for another campaign.")
        if item.status == "rejected":
            raise _invalid("media_ids", f"{media_id} was rejected: {item.reason}")
        if item.event_id not in (None, event_id):  # or a report could lift another event's embargo
            raise _invalid("media_ids", f"{media_id} belongs to another event.")


def submit(session: Session, outbox: Outbox, principal: Principal, organisation_id: str, fields: dict) -> Report:
    """A report on one of the organisation's events (its campaign and country follow from
    it), or on the organisation's part in a campaign (naming both)."""
    event = None
    if fields.get("event_id"):
        event = session.get(KnownEvent, fields["event_id"])
        if event is None:
            refuse_unknown(fields["event_id"], _invalid("event_id", "No approved event has this id."), "this event")
        if event.status != "approved":
            raise _invalid("event_id", "No approved event has this id.")
        if event.organisation_id != organisation_id:
            raise Forbidden("An organisation reports on its own events only.")
        for name, value in (("campaign_id", event.campaign_id), ("country", event.country)):
            if fields.get(name) not in (None, value):
                raise _invalid(name, f"The event's {name.replace('_id', '')} is {value}.")
    campaign_id = event.campaign_id if event else fields.get("campaign_id")
    country = event.country if event else fields.get("country")
    if campaign_id is None:
        raise _invalid("campaign_id", "A report names its event or its campaign.")
    campaign = session.get(KnownCampaign, campaign_id)
    if campaign is None:
        refuse_unknown(campaign_id, _invalid("campaign_id", "No open or closed campaign has this id."), "this campaign")
    if campaign.status == "draft":
        raise _invalid("campaign_id", "No open or closed campaign has this id.")
    if not country:
        raise _invalid("country", "A report on the campaign as a whole names its country.")
    check_languages(fields["title"], fields["text"])
    media_ids = fields.get("media_ids") or []
    _attachable(session, media_ids, organisation_id, campaign.id, event.id if event else None)
    report = Report(campaign_id=campaign.id, event_id=event.id if event else None, organisation_id=organisation_id,
                    country=country, title=fields["title"], text=_in_order(fields["text"], fields["title"]),
                    language=next(iter(fields["title"])), turnout=fields.get("turnout"), status="submitted")
    session.add(report)
    session.flush()
    session.add_all(ReportMedia(report_id=report.id, media_id=m, position=i) for i, m in enumerate(media_ids))
    outbox.add(session, "report.submitted", message_data(report))
    return report


def _in_order(text: dict, title: dict) -> dict:
    """The texts in the titles' order: the original language first."""
    return {code: text[code] for code in title if code in text}


def in_language(report: Report, wanted: tuple[str, ...]) -> dict:
    """What ReportOut shows of the report's text for a reader of these languages (best first):
    the language chosen among the titles' (else the original one), its title and text (the
    original text where that language has none), and every language's."""
    language = pick_language(report.title, [report.language], wanted)
    return {"language": language, "title": report.title[language],
            "text": report.text.get(language, report.text.get(report.language, "")),
            "titles": report.title, "texts": report.text,
            "languages": [report.language, *(code for code in report.title if code != report.language)]}


def may_manage(report: Report, principal: Principal | None) -> bool:
    return principal is not None and (principal.is_coordinator or principal.owns(report.organisation_id))


def get_report(session: Session, report_id: str, principal: Principal | None) -> Report:
    """What a caller may not see does not exist for it."""
    report = session.get(Report, report_id)
    if report is not None and may_manage(report, principal):
        return report
    if report is None or session.execute(select(Report.id).where(Report.id == report.id,
                                                                  public_report_condition(utcnow()))).first() is None:
        raise NotFound("No report has this id.")
    return report


def update(session: Session, report: Report, principal: Principal, changes: dict) -> None:
    """The owner changes a report until a coordinator has decided on it."""
    if not principal.owns(report.organisation_id):
        raise Forbidden("Only the organisation that sent the report changes it.")
    if report.status != "submitted":
        raise Conflict(f"The report is {report.status}; it can no longer change.", current_status=report.status)
    if "title" in changes or "text" in changes:
        title, text = changes.get("title", report.title), changes.get("text", report.text)
        check_languages(title, text)
        report.title, report.text, report.language = title, _in_order(text, title), next(iter(title))
    if "media_ids" in changes:
        _attachable(session, changes["media_ids"], report.organisation_id, report.campaign_id, report.event_id)
        session.execute(delete(ReportMedia).where(ReportMedia.report_id == report.id))
        session.add_all(ReportMedia(report_id=report.id, media_id=m, position=i)
                        for i, m in enumerate(changes["media_ids"]))
    if "turnout" in changes:
        report.turnout = changes["turnout"]
    report.updated_at = utcnow()


def decide(session: Session, outbox: Outbox, report: Report, publish: bool, reason: str | None) -> None:
    if report.status != "submitted":
        raise Conflict(f"The report is already {report.status}.", current_status=report.status)
    if not publish and not (reason or "").strip():
        raise _invalid("reason", "Say why the report is rejected; its organisation is told.")
    report.status, report.reason, report.updated_at = ("published" if publish else "rejected"), reason, utcnow()
    if publish:
        report.published_at = report.updated_at
        outbox.add(session, "report.published", message_data(report))
    else:
        outbox.add(session, "report.rejected", {**message_data(report), "reason": reason})


def public_report_condition(now: datetime):
    """Reports the public may see, as SQL: published, not about an event its organisation keeps
    to coordinators, and not of a country on hold."""
    hidden_event = exists().where(KnownEvent.id == Report.event_id, KnownEvent.visibility != "public")
    return (Report.status == "published") & ~hidden_event & Report.country.not_in(held_countries(country_holds))


def public_media_condition(now: datetime):
    """Media the public may see, as SQL: processed, and either in the material package or
    attached to a public report — then also consented where people are shown, of an event
    (the file's and the report's) that has ended, and blurred where the campaign asks it."""
    ended = MediaItem.event_id.is_(None) | exists().where(KnownEvent.id == MediaItem.event_id,
                                                          KnownEvent.ends_at <= now)
    report_ended = Report.event_id.is_(None) | exists().where(KnownEvent.id == Report.event_id,
                                                              KnownEvent.ends_at <= now)
    in_public_report = exists().where(ReportMedia.media_id == MediaItem.id, ReportMedia.report_id == Report.id,
                                      public_report_condition(now), report_ended)
    blurred = (MediaItem.kind != "photo") | MediaItem.blur_faces | ~exists().where(
        KnownCampaign.id == MediaItem.campaign_id, KnownCampaign.require_face_blur)
    reported = ((MediaItem.consent | MediaItem.kind.not_in(NEEDS_CONSENT)) & ended & blurred & in_public_report)
    material = exists().where(Material.media_id == MediaItem.id)
    return (MediaItem.status == "processed") & (material | reported)


def is_public_media(session: Session, media_id: str, now: datetime) -> bool:
    return session.execute(select(MediaItem.id).where(MediaItem.id == media_id, public_media_condition(now))
                           ).first() is not None


def next_public_change(session: Session, campaign_id: str, now: datetime) -> datetime | None:
    """When time alone next changes what the public sees of the campaign's reports: the first
    end, after `now`, of an event that a report or one of its files belongs to (its files
    stay private until then)."""
    of_reports = select(Report.event_id).where(Report.campaign_id == campaign_id)
    of_files = (select(MediaItem.event_id).join(ReportMedia, ReportMedia.media_id == MediaItem.id)
                .join(Report, Report.id == ReportMedia.report_id).where(Report.campaign_id == campaign_id))
    return session.execute(select(func.min(KnownEvent.ends_at)).where(
        KnownEvent.ends_at > now, KnownEvent.id.in_(of_reports) | KnownEvent.id.in_(of_files))).scalar()


def attached_media(session: Session, report_ids: list[str], public_only: bool, now: datetime) -> dict[str, list]:
    """Each report's media, in order (the public's: only what it may see)."""
    stmt = (select(ReportMedia.report_id, MediaItem).join(MediaItem, MediaItem.id == ReportMedia.media_id)
            .where(ReportMedia.report_id.in_(report_ids)).order_by(ReportMedia.report_id, ReportMedia.position))
    if public_only:
        stmt = stmt.where(public_media_condition(now))
    out: dict[str, list] = {r: [] for r in report_ids}
    for report_id, item in session.execute(stmt):
        out[report_id].append(item)
    return out


def list_statement(args: dict, principal: Principal | None):
    stmt = select(Report)
    for name in ("campaign_id", "country", "status", "event_id"):
        if args.get(name):
            stmt = stmt.where(getattr(Report, name) == args[name])
    if principal is None:
        stmt = stmt.where(public_report_condition(utcnow()))
    elif not principal.is_coordinator:
        stmt = stmt.where(public_report_condition(utcnow()) | (Report.organisation_id == principal.subject_id))
    return stmt
