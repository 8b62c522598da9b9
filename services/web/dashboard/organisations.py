"""The dashboard's organisations tab (/me/organisations): the renames organisations asked for,
accepted or rejected; registering an organisation, then its first API key on a page of its own
(shown once); another key for one; importing a CSV file of them."""
from __future__ import annotations

from flask import g, request

from services.web.client import Api, ApiError, api
from services.web.dashboard.base import LIST_LIMIT, bp, choices, chosen, organisation_names, show
from services.web.forms import FormState, refused, shown_again, submitted
from services.web.i18n import reader_language, translator
from services.web.pages import optional, refusal_page, signed_in, wants_a_page

ORGANISATION_FIELDS = ("abbreviation", "name", "name_en", "country", "timezone", "website", "contact_email")


@bp.get("/me/organisations", endpoint="organisations")
@signed_in
def show_organisations(imported: dict | None = None) -> str:
    """The tab; also shown again, with the form as sent, when a change is refused."""
    return show("dashboard_organisations.html", "organisations", imported=imported,
                **organisations_page(api(), g.token), **choices())


@bp.post("/me/organisations")
@signed_in
def register_organisation():
    """Register an organisation, then show its first API key — on this one page, never again."""
    values = organisation_values()
    try:
        made = api().post("/api/registry/organisations", token=g.token, json=organisation_body(values))
    except ApiError as exc:
        return refused(exc, FormState("organisation", values), show_organisations)
    return key_page(made, registered=True)


@bp.post("/me/renames/<uuid:rename_id>/decision")
@signed_in
def decide_rename(rename_id):
    """An organisation's new name, abbreviation or country: accepted (everyone sees it now) or
    rejected with a reason (it keeps the approved one)."""
    base, reason = f"/api/registry/organisations/renames/{rename_id}", request.form.get("reason", "")
    form = FormState(f"rename-{rename_id}", {"reason": reason})
    if chosen("decision", ("accept", "reject")) == "accept":
        return submitted(lambda: api().post(f"{base}/acceptance", token=g.token), form, show_organisations,
                         "rename_accepted", "/me/organisations")
    return submitted(lambda: api().post(f"{base}/rejection", token=g.token, json={"reason": reason}), form,
                     show_organisations, "rename_rejected", "/me/organisations")


@bp.post("/me/organisations/<uuid:organisation_id>/keys")
@signed_in
def issue_key(organisation_id):
    """Another key for an organisation (its first was lost, or never made)."""
    return key_page(api().get(f"/api/registry/organisations/{organisation_id}", token=g.token), registered=False)


def key_page(organisation: dict, registered: bool):
    try:
        key = api().post(f"/api/registry/organisations/{organisation['id']}/keys", token=g.token,
                         json={"label": "dashboard"})
    except ApiError as exc:
        if not registered:
            return refusal_page(exc)
        key, problem = None, str(exc)  # registered all the same: the list below can issue one
    else:
        problem = None
    return show("dashboard_key.html", "organisations", organisation=organisation, key=key, problem=problem,
                registered=registered)


@bp.post("/me/organisations/import")
@signed_in
def import_organisations():
    """A CSV file of organisations (the registry's importer: a re-run changes nothing): how many
    were created, updated or already there, and each refused row with its reason."""
    upload = request.files.get("file")
    skip_bad = request.form.get("skip_bad") == "true"
    form = FormState("import", {"skip_bad": skip_bad})
    if upload is None or not upload.filename:
        form.errors = {"file": translator(reader_language())("error_choose_file")}
        return shown_again(form, show_organisations)
    try:
        report = api().post("/api/registry/organisations/import", token=g.token, data=upload.read(),
                            params={"skip_bad": "true" if skip_bad else "false"},
                            headers={"Content-Type": "text/csv"})
    except ApiError as exc:
        rows = [e for e in exc.problem.get("errors") or [] if isinstance(e, dict) and e.get("line")]
        if exc.status != 422 or not rows or not wants_a_page():  # not UTF-8…: said under the file's field
            return refused(exc, form, show_organisations, field="file")
        return show_organisations(imported={"refused": rows, "nothing": True, "skip_bad": skip_bad}), 422
    return show_organisations(imported={**report, "refused": report.get("skipped", []), "nothing": False,
                                        "skip_bad": skip_bad})


def organisations_page(api: Api, token: str) -> dict:
    """The renames waiting for a decision (oldest first, with their warnings), and the
    organisations registered (their first page, newest last), to issue one a key."""
    listed = optional(lambda: api.get("/api/registry/organisations", params={"limit": LIST_LIMIT}, token=token),
                      default={})
    renames = optional(lambda: api.get("/api/registry/organisations/renames", params={"limit": LIST_LIMIT},
                                       token=token)["items"], default=[])
    names = organisation_names(api, token, {r["organisation_id"] for r in renames}) if renames else {}
    return {"organisations": listed.get("items", []), "more_organisations": bool(listed.get("next")),
            "renames": [{**r, "organisation": names.get(r["organisation_id"])} for r in renames]}


def organisation_values() -> dict:
    values = {k: request.form.get(k, "").strip() for k in ORGANISATION_FIELDS}
    values["languages"] = request.form.getlist("languages")
    return values


def organisation_body(values: dict) -> dict:
    """The registry's body from the form: the languages chosen, in order, each once; what is
    optional and blank is none."""
    languages = list(dict.fromkeys(code for code in values["languages"] if code))
    return {**{k: values[k] for k in ("abbreviation", "name", "name_en", "country", "timezone")},
            "languages": languages, "website": values["website"] or None,
            "contact_email": values["contact_email"] or None}
