"""The OpenAPI document says what the code does: our fields and schemas describe themselves
(shared.fields: enums, formats, key names), and a schema may add JSON Schema keywords of its
own (`OPENAPI = {"minProperties": 1}`) for what marshmallow's validators check but apispec
cannot read from them."""
from __future__ import annotations

from apispec.ext.marshmallow import MarshmallowPlugin, OpenAPIConverter
from marshmallow import fields
from werkzeug.routing import BaseConverter

from shared.fields import CountryCode, openapi_properties


class DocumentingConverter(OpenAPIConverter):
    def schema2jsonschema(self, schema):
        json_schema = super().schema2jsonschema(schema)
        json_schema.update(getattr(schema, "OPENAPI", {}))
        return json_schema

    def field2length(self, field, **kwargs) -> dict:
        """A mapping's Length counts its entries (minProperties), not characters (apispec says
        minLength for every field that is not a list)."""
        told = super().field2length(field, **kwargs)
        if isinstance(field, fields.Dict):
            return {{"minLength": "minProperties", "maxLength": "maxProperties"}[k]: v for k, v in told.items()}
        return told


class DocumentingPlugin(MarshmallowPlugin):
    Converter = DocumentingConverter

    def init_spec(self, spec):
        super().init_spec(spec)
        self.converter.add_attribute_function(openapi_properties)


class CountryConverter(BaseConverter):
    """`<country:code>` in a route: two letters, upper case to the view, documented as the ISO
    3166-1 alpha-2 codes; the view refuses two letters that are no country's (422, naming the
    field), anything longer matches no route (404)."""

    regex = "[A-Za-z]{2}"

    def to_python(self, value: str) -> str:
        return value.upper()


def install_converters(app, api) -> None:
    """Path converters every service may use, each documented as what it accepts."""
    app.url_map.converters["country"] = CountryConverter
    api.register_converter(CountryConverter, lambda converter: {"type": "string", **CountryCode().openapi()})
