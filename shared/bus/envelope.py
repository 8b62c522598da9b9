"""The one envelope every message travels in."""
from __future__ import annotations

import uuid

from marshmallow import EXCLUDE, Schema, fields, validate

from shared.db import utcnow
from shared.fields import UUIDString


class EnvelopeSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    id = UUIDString(required=True)
    type = fields.String(required=True, validate=validate.Length(min=3, max=100))
    version = fields.Integer(required=True, strict=True, validate=validate.Range(min=1))
    occurred_at = fields.AwareDateTime(required=True, format="iso")
    source = fields.String(required=True)
    correlation_id = fields.String(required=True, allow_none=True)
    data = fields.Dict(required=True)


def make_envelope(type_: str, version: int, data: dict, source: str,
                  correlation_id: str | None) -> dict:
    return {
        "id": str(uuid.uuid4()),
        "type": type_,
        "version": version,
        "occurred_at": utcnow().isoformat(),
        "source": source,
        "correlation_id": correlation_id,
        "data": data,
    }
