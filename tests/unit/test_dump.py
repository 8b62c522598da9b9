from datetime import datetime, timezone
from types import SimpleNamespace

import pytest
from marshmallow import Schema, fields

from services.registry.schemas import PRIVATE_FIELDS, OrganisationOut, OrganisationPage, OrganisationReadOut
from shared.http.dump import compile_dumper

ORG = SimpleNamespace(id="6c0e", abbreviation="БКП", name="Българска комунистическа партия",
                      name_en="Bulgarian Communist Party", country="BG", timezone="Europe/Sofia",
                      languages=["bg"], website=None, status="active",
                      created_at=datetime(2026, 11, 27, 6, 0, tzinfo=timezone.utc),
                      updated_at=datetime(2026, 11, 27, 7, 30, 15, 123456, tzinfo=timezone.utc),
                      contact_email="office@bkp.example", suspension_reason=None)


RENAME = SimpleNamespace(id="9d1f", proposed={"name": "БКП (м)"}, proposed_at=datetime(2026, 11, 28, tzinfo=timezone.utc))


@pytest.mark.parametrize("schema, obj", [
    (OrganisationOut(), ORG), (OrganisationOut(exclude=PRIVATE_FIELDS), ORG),
    (OrganisationReadOut(), SimpleNamespace(**vars(ORG), pending_rename=RENAME)),
    (OrganisationReadOut(), SimpleNamespace(**vars(ORG), pending_rename=None)),
    (OrganisationPage(), {"items": [ORG, {"id": "x", "name": "only what the caller may see"}], "next": None})])
def test_the_compiled_dumper_gives_what_marshmallow_gives(schema, obj):
    assert compile_dumper(schema)(obj) == Schema.dump(schema, obj)  # marshmallow's own dump, not FastSchema's


def test_public_output_never_holds_private_fields():
    public = compile_dumper(OrganisationOut(exclude=PRIVATE_FIELDS))(ORG)
    assert not set(PRIVATE_FIELDS) & set(public) and public["name"] == ORG.name


def test_field_kinds_it_cannot_reproduce_are_refused_when_compiled():
    class Computed(Schema):
        inner = fields.Method("anything")

        def anything(self, obj):
            return obj

    with pytest.raises(TypeError):
        compile_dumper(Computed())
