"""What the media service takes and gives over HTTP."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from shared.fields import Text, UUIDString
from shared.http.pagination import PageArgs


class UploadOptions(Schema):
    """Given as query parameters of a plain upload, or as tus `Upload-Metadata`."""

    campaign_id = UUIDString(required=True, metadata={"description": "The campaign the upload is for."})
    event_id = UUIDString(load_default=None, metadata={"description": "One of the uploader's approved events."})
    organisation_id = UUIDString(load_default=None, metadata={"description": "Coordinators: for whom."})
    consent = fields.Boolean(load_default=False, metadata={
        "description": "The uploader states that the people shown agreed to publication; without it the file is "
                       "never public."})
    blur_faces = fields.Boolean(load_default=False, metadata={"description": "Blur every face found in a photo."})
    name = Text(max_length=200, load_default=None, metadata={"description": "The file's name, for display only "
                                                                            "(its type comes from its content)."})


class Variant(Schema):
    sha256 = fields.String()
    content_type = fields.String()
    size = fields.Integer()
    width = fields.Integer()
    url = fields.String()


class MediaOut(Schema):
    id = fields.String()
    organisation_id = fields.String(allow_none=True)
    campaign_id = fields.String()
    event_id = fields.String(allow_none=True)
    kind = fields.String(metadata={"description": "photo, video, audio or document: decided by the content"})
    content_type = fields.String(metadata={"description": "As found in the upload's bytes."})
    size = fields.Integer()
    name = fields.String(allow_none=True)
    sha256 = fields.String(attribute="original_sha256", metadata={"description": "Of the upload as it came."})
    consent = fields.Boolean()
    blur_faces = fields.Boolean()
    status = fields.String(metadata={"description": "received, processing, processed, rejected or held"})
    reason = fields.String(allow_none=True, metadata={"description": "Why it was rejected or is held."})
    clean_content_type = fields.String(allow_none=True)
    file_url = fields.String(allow_none=True, metadata={"description": "The clean file, once processed."})
    variants = fields.Dict(keys=fields.String(), values=fields.Nested(Variant))
    width = fields.Integer(allow_none=True)
    height = fields.Integer(allow_none=True)
    duration = fields.Float(allow_none=True)
    faces_blurred = fields.Integer(allow_none=True)
    created_at = fields.AwareDateTime(format="iso")
    processed_at = fields.AwareDateTime(format="iso", allow_none=True)


class MediaQuery(PageArgs):
    campaign_id = UUIDString(load_default=None)
    status = fields.String(load_default=None, validate=validate.OneOf(
        ["received", "processing", "processed", "rejected", "held"]))
    kind = fields.String(load_default=None, validate=validate.OneOf(["photo", "video", "audio", "document"]))


class MediaPage(Schema):
    items = fields.List(fields.Nested(MediaOut))
    next = fields.String(allow_none=True)
