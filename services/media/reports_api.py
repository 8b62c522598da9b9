"""/api/media/reports: reports after the day — organisations send them, coordinators publish
or reject them, everyone reads the published ones."""
from __future__ import annotations

from services.media import reports, uploads
from services.media.models import Report
from services.media.presenting import reports_out, url
from services.media.schemas import Rejection, ReportIn, ReportLanguage, ReportOut, ReportPage, ReportPatch, ReportQuery
from shared.http.contract import LOCATION
from shared.http.pagination import keyset_page, page_body
from shared.http.routes import Blueprint, MethodView, current_principal, kernel, record, require_principal, requires
from shared.languages import wanted_languages

ROLES = ("organisation", "coordinator")

reports_blp = Blueprint("reports", __name__, url_prefix="/reports",
                        description="Reports after the day: organisations send, coordinators publish or reject.")


def reports_page(session, args: dict, principal, wanted: tuple[str, ...]) -> tuple[list, str | None]:
    """A page of the reports list (items, next url), in the first `wanted` language each report
    has: what the list and the overview answer."""
    stmt = reports.list_statement(args, principal)
    rows, next_url = keyset_page(session, stmt, [Report.created_at, Report.id], args, descending=True)
    return reports_out(session, rows, principal, wanted), next_url


@reports_blp.route("")
class Reports(MethodView):
    @requires(*ROLES)
    @reports_blp.arguments(ReportIn)
    @reports_blp.response(201, ReportOut, headers=LOCATION)
    def post(self, fields):
        """Send a report on an event (or on the campaign, naming the country) with media
        uploaded before; it waits for a coordinator."""
        principal = require_principal(*ROLES)
        with kernel().db.transaction() as session:
            organisation_id = uploads.acting_organisation(session, principal, fields["organisation_id"],
                                                          coalition_allowed=False)
            report = reports.submit(session, kernel().outbox, principal, organisation_id, fields)
            out = reports_out(session, [report], principal, wanted_languages({}))[0]
        return out, 201, {"Location": url(f"/reports/{report.id}")}

    @reports_blp.arguments(ReportQuery, location="query")
    @reports_blp.response(200, ReportPage)
    def get(self, args):
        """Reports, newest first: the public sees published ones, an organisation also its
        own, coordinators all. `?lang=` or Accept-Language picks the text's language."""
        with kernel().db.transaction() as session:
            return page_body(*reports_page(session, args, current_principal(), wanted_languages(args)))


@reports_blp.route("/<uuid:report_id>")
class ReportById(MethodView):
    @reports_blp.arguments(ReportLanguage, location="query")
    @reports_blp.response(200, ReportOut)
    def get(self, args, report_id):
        """Read a report (`?lang=` or Accept-Language picks the text's language)."""
        principal = current_principal()
        with kernel().db.transaction() as session:
            report = reports.get_report(session, str(report_id), principal)
            return reports_out(session, [report], principal, wanted_languages(args))[0]

    @requires("organisation")
    @reports_blp.arguments(ReportPatch(partial=True))
    @reports_blp.response(200, ReportOut)
    def patch(self, changes, report_id):
        """Change a report until a coordinator has decided on it."""
        principal = require_principal("organisation")
        with kernel().db.transaction() as session:
            report = reports.get_report(session, str(report_id), principal)
            reports.update(session, report, principal, changes)
            session.flush()
            return reports_out(session, [report], principal, wanted_languages({}))[0]


def _decide(report_id, publish: bool, reason: str | None):
    principal = require_principal("coordinator")
    with kernel().db.transaction() as session:
        report = reports.get_report(session, str(report_id), principal)
        before = report.status
        reports.decide(session, kernel().outbox, report, publish, reason)
        record(session, kernel().outbox, principal, "report.published" if publish else "report.rejected", "report",
               report.id, reason, before={"status": before}, after={"status": report.status})
        return reports_out(session, [report], principal, wanted_languages({}))[0]


@reports_blp.route("/<uuid:report_id>/publication", methods=["POST"])
@requires("coordinator")
@reports_blp.response(200, ReportOut)
def publish_report(report_id):
    """Publish a report (coordinators): it and its public media appear on the website."""
    return _decide(report_id, True, None)


@reports_blp.route("/<uuid:report_id>/rejection", methods=["POST"])
@requires("coordinator")
@reports_blp.arguments(Rejection)
@reports_blp.response(200, ReportOut)
def reject_report(args, report_id):
    """Reject a report, saying why (its organisation is told)."""
    return _decide(report_id, False, args["reason"])
