"""The campaign's material package: /api/media/campaigns/{id}/materials (its current items,
and the whole package as one zip) and /api/media/materials/{id} (an item in versions)."""
from __future__ import annotations

from flask import Response

from services.media import materials, schemas
from services.media.presenting import material_out, public_campaign, storage, url
from shared.http.contract import LOCATION
from shared.http.pagination import keyset_page, page_body
from shared.http.routes import Blueprint, MethodView, current_principal, kernel, record, require_principal, requires

materials_blp = Blueprint("materials", __name__, url_prefix="",
                          description="The campaign's material package: items in versions, and the whole as a zip.")


@materials_blp.route("/campaigns/<uuid:campaign_id>/materials")
class CampaignMaterials(MethodView):
    @materials_blp.arguments(schemas.MaterialQuery, location="query")
    @materials_blp.response(200, schemas.MaterialPage)
    def get(self, args, campaign_id):
        """The current items of the package, by kind and language (`?language=` for one)."""
        with kernel().db.transaction() as session:
            campaign = public_campaign(session, campaign_id)
            stmt = materials.listing_statement(campaign.id, args["language"])
            rows, next_url = keyset_page(session, stmt, list(materials.PACKAGE_ORDER), args)
        return page_body([material_out(m) for m in rows], next_url)

    @requires("coordinator")
    @materials_blp.arguments(schemas.MaterialIn)
    @materials_blp.response(201, schemas.MaterialOut, headers=LOCATION)
    def post(self, fields, campaign_id):
        """Publish an item (coordinators), from a processed upload of the campaign."""
        principal = require_principal("coordinator")
        with kernel().db.transaction() as session:
            material = materials.publish(session, kernel().outbox, str(campaign_id), principal.subject_id, fields)
            record(session, kernel().outbox, principal, "material.published", "material", material.id,
                   after={"title": material.title, "language": material.language, "version": material.version})
        return material_out(material), 201, {"Location": url(f"/materials/{material.id}")}


@materials_blp.route("/campaigns/<uuid:campaign_id>/materials.zip")
@materials_blp.arguments(schemas.MaterialZipQuery, location="query")
@materials_blp.response(200, content_type="application/zip", description=(
    "A zip of the current items with manifest.json and INDEX.txt listing each file's SHA-256."))
def materials_zip(args, campaign_id):
    """The whole package as one zip, streamed (`?language=` for one language)."""
    language = args["language"]
    with kernel().db.transaction() as session:
        campaign = public_campaign(session, campaign_id)
        rows = session.execute(materials.current_statement(campaign.id, language)).all()
        entries = materials.package_entries(rows)
        session.expunge(campaign)
    package = materials.zip_stream(storage(), campaign, entries)
    name = f"materials-{language}.zip" if language else "materials.zip"
    return Response(iter(package), content_type="application/zip", direct_passthrough=True,
                    headers={"Content-Length": str(len(package)),
                             "Content-Disposition": f'attachment; filename="{name}"'})


@materials_blp.route("/materials/<uuid:material_id>")
@materials_blp.response(200, schemas.MaterialWithVersions)
def material_by_id(material_id):
    """An item with all its versions, newest first. The public sees the items of open and
    closed campaigns; coordinators those of drafts too."""
    principal = current_principal()
    with kernel().db.transaction() as session:
        material = materials.get_material(session, str(material_id))
        if principal is None or not principal.is_coordinator:
            public_campaign(session, material.campaign_id)
        versions = [material_out(m) for m in materials.versions(session, material)]
    return material_out(material, versions=versions)


@materials_blp.route("/materials/<uuid:material_id>/versions", methods=["POST"])
@requires("coordinator")
@materials_blp.arguments(schemas.MaterialVersionIn)
@materials_blp.response(201, schemas.MaterialOut, headers=LOCATION)
def replace_material(fields, material_id):
    """Replace an item with a new version (coordinators); the earlier ones are kept."""
    principal = require_principal("coordinator")
    with kernel().db.transaction() as session:
        earlier = materials.get_material(session, str(material_id))
        material = materials.replace(session, kernel().outbox, earlier, principal.subject_id, fields)
        record(session, kernel().outbox, principal, "material.replaced", "material", material.id,
               before={"version": earlier.version}, after={"title": material.title, "version": material.version})
    return material_out(material), 201, {"Location": url(f"/materials/{material.id}")}
