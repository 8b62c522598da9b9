"""The door's page for a phone (`/me/events/<id>/hosting/door`, docs/participation.md): "+1",
"−1" and a participant's short code (or the private link their QR code carries), and the
running count. Without JavaScript each is a plain form: one action, its id made here, then the
page again (the count from the notify API). With JavaScript (static/door.js) the page makes each
action's id when it is tapped, keeps the actions in the phone's storage while there is no
connection and sends them in batches to `…/door/actions`, which hands them to
`POST /api/notify/events/{id}/check-ins`: an action sent twice is counted once."""
from __future__ import annotations

import re
import uuid

from flask import Blueprint, abort, flash, g, jsonify, redirect, render_template, request

from services.web.client import ApiError, api
from services.web.forms import FORM_ERRORS, FormState, shown_again
from services.web.hosting import base, hosting_event, hosts_area
from services.web.i18n import reader_language, translator
from services.web.pages import optional, refusal_page, signed_in

bp = Blueprint("door", __name__)

CODE = re.compile(r"[A-Za-z0-9 -]{4,20}")  # the notify API's short code: any case, spaces or dashes
LINK_KEY = re.compile(r"/p/([A-Za-z0-9_-]{43})(?:[/?#]|$)")  # a private link, as its QR code carries it
BATCH = 500  # the notify API's largest batch


def door_page(event_id, form: FormState | None = None) -> str:
    event, part, _ = hosting_event(event_id)
    if part == "invited":  # not a host until it accepts
        abort(403)
    places = optional(lambda: api().get(f"/api/notify/events/{event_id}/participation", token=g.token), {})
    return render_template("door.html", event=event, places=places, base=base(event_id),
                           f=form or FormState("door"))


@bp.get("/me/events/<uuid:event_id>/hosting/door")
@signed_in
def door(event_id):
    hosts_area()
    return door_page(event_id)


def action_of(form) -> tuple[dict | None, str]:
    """The one action a form sent (its id made here), or None and what is wrong with it."""
    delta = form.get("delta", "")
    if delta in ("1", "-1"):
        return {"id": str(uuid.uuid4()), "kind": "door", "delta": int(delta)}, ""
    code = form.get("code", "").strip()[:200]
    found = LINK_KEY.search(code)
    if found:
        return {"id": str(uuid.uuid4()), "kind": "participant", "key": found.group(1)}, ""
    if CODE.fullmatch(code):
        return {"id": str(uuid.uuid4()), "kind": "participant", "code": code}, ""
    return None, "error_door_code"


@bp.post("/me/events/<uuid:event_id>/hosting/door")
@signed_in
def count(event_id):
    hosts_area()
    t = translator(reader_language())
    action, wrong = action_of(request.form)
    form = FormState("door", {"code": request.form.get("code", "").strip()[:200]})
    if action is not None:
        try:
            answer = api().post(f"/api/notify/events/{event_id}/check-ins", json={"actions": [action]},
                                token=g.token) or {}
        except ApiError as exc:
            if exc.status not in FORM_ERRORS:
                return refusal_page(exc)
            wrong = "error_door_code"
        else:
            said = "door_unknown" if answer.get("unknown") else "door_repeated" if answer.get("repeated") else \
                "door_counted"
            flash(said, "done")
            return redirect(f"{base(event_id)}/door", 303)
    form.errors = {"code": t(wrong)}
    return shown_again(form, lambda: door_page(event_id, form))


@bp.post("/me/events/<uuid:event_id>/hosting/door/actions")
@signed_in
def actions(event_id):
    """The page's script's batch (JSON, its CSRF token in X-CSRF-Token): handed to the notify
    API as it is; its answer (`applied`, `repeated`, `unknown`, `checked_in`) handed back."""
    hosts_area()
    sent = request.get_json(silent=True)
    if not isinstance(sent, dict) or not isinstance(sent.get("actions"), list) or not \
            0 < len(sent["actions"]) <= BATCH:
        return refusal_page(ApiError(422, {"title": "Unprocessable Entity", "status": 422,
                                           "detail": f"Send {{\"actions\": [...]}}: from 1 to {BATCH} actions."}))
    try:
        answer = api().post(f"/api/notify/events/{event_id}/check-ins", json={"actions": sent["actions"]},
                            token=g.token)
    except ApiError as exc:  # the script asks for JSON: problem+json (a browser's page, else)
        return refusal_page(exc)
    return jsonify(answer)
