"""An output schema dumps with a function compiled from it (shared.http.dump.FastSchema): what a
client reads must be exactly what marshmallow's own dump gives, for every field kind it
compiles, for objects and dicts, and with attributes left out."""
from __future__ import annotations

from datetime import date, datetime, timezone
from types import SimpleNamespace

import pytest
from marshmallow import Schema, fields

from shared.fields import CountryCode, Text, UUIDString
from shared.http.dump import FastSchema


class Change(FastSchema):
    from_ = fields.Raw(data_key="from", allow_none=True)
    to = fields.Raw(allow_none=True)


class Item(FastSchema):
    id = fields.String()
    title = Text()
    titles = fields.Dict(keys=fields.String(), values=fields.String())
    count = fields.Integer(allow_none=True)
    share = fields.Float()
    public = fields.Boolean()
    day = fields.Date()
    at = fields.AwareDateTime(format="iso")
    tags = fields.List(fields.String())
    changes = fields.Dict(keys=fields.String(), values=fields.Nested(Change))
    change = fields.Nested(Change, allow_none=True)
    history = fields.List(fields.Nested(Change))
    uuid = fields.UUID()
    campaign_id = UUIDString()
    country = CountryCode()
    kind = fields.String(dump_default="plain")


class Page(FastSchema):
    items = fields.List(fields.Nested(Item))
    next = fields.String(allow_none=True)


VALUES = dict(id="e1", title="Kundgebung", titles={"de": "Kundgebung", "fa": "تجمع"}, count=None, share=0.5,
              public=True, day=date(2022, 12, 1), at=datetime(2022, 12, 1, 9, 30, tzinfo=timezone.utc),
              tags=["a", "b"], changes={"city": {"from_": "Köln", "to": "Bonn"}},
              change=SimpleNamespace(from_=None, to=3), history=[{"from_": 1, "to": 2}],
              uuid=__import__("uuid").UUID("0193a6b2-0000-7000-8000-000000000001"),
              campaign_id="0193a6b2-0000-7000-8000-000000000002", country="IR")


def marshmallow_dump(schema, obj):
    return Schema.dump(schema, obj)


@pytest.mark.parametrize("obj", [VALUES, SimpleNamespace(**VALUES),
                                 {k: v for k, v in VALUES.items() if k not in ("title", "change")}])
def test_the_compiled_dump_is_marshmallows(obj):
    assert Item().dump(obj) == marshmallow_dump(Item(), obj)


def test_a_page_dumps_its_items_through_the_item_schema():
    page = {"items": [VALUES, SimpleNamespace(**VALUES)], "next": None}
    dumped = Page().dump(page)
    assert dumped == marshmallow_dump(Page(), page)
    assert dumped["items"][0]["changes"] == {"city": {"from": "Köln", "to": "Bonn"}}
    assert dumped["items"][0]["at"] == "2022-12-01T09:30:00+00:00" and dumped["items"][0]["kind"] == "plain"


def test_an_attribute_the_object_lacks_is_left_out_not_sent_empty():
    assert "title" not in Item().dump({"id": "e1"}) and Item().dump({"id": "e1"})["kind"] == "plain"


def test_many():
    assert Item(many=True).dump([VALUES]) == marshmallow_dump(Item(many=True), [VALUES])


def test_a_field_it_cannot_compile_falls_back_to_marshmallow():
    class Computed(FastSchema):
        shout = fields.Method("loud")

        def loud(self, obj):
            return obj["word"].upper()

    assert Computed().dump({"word": "solidarity"}) == {"shout": "SOLIDARITY"}
