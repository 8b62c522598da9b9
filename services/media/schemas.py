"""What the media service takes and gives over HTTP."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from shared.fields import CountryCode, LanguageCode, Text, UUIDString
from shared.http.pagination import PageArgs, page_schema


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


class ResumableOut(Schema):
    """A resumable upload's state: what tus's HEAD says in headers, for a client that is not a
    tus client."""

    id = UUIDString()
    offset = fields.Integer(metadata={"description": "How many bytes have arrived."})
    length = fields.Integer()
    expires_at = fields.AwareDateTime(format="iso", metadata={"description": "When an unfinished upload is "
                                                                             "deleted."})
    media_id = UUIDString(allow_none=True, metadata={"description": "Once complete: the media item it became."})
    media_url = fields.String(allow_none=True)


class Variant(Schema):
    sha256 = fields.String()
    content_type = fields.String()
    size = fields.Integer()
    width = fields.Integer()
    url = fields.String()


class MediaOut(Schema):
    """An upload. Its owner and coordinators see every field; the public, a file it may see,
    only id, kind, content_type (the clean file's), file_url, variants, width, height and
    duration."""

    id = UUIDString()
    organisation_id = UUIDString(allow_none=True)
    campaign_id = UUIDString()
    event_id = UUIDString(allow_none=True)
    kind = fields.String(metadata={"description": "photo, video, audio or document: decided by the content"})
    content_type = fields.String(metadata={"description": "As found in the upload's bytes (for the public: the "
                                                          "clean file's)."})
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


MediaPage = page_schema(MediaOut, "MediaPage")


REPORT_TITLE = ("Language code → title. The first language is the report's original one (its `language`; the "
                "Atom feed's).")
REPORT_TEXT = ("Language code → what happened, in the title's languages or fewer: every language here has a "
               "title, and the original language (the title's first) has a text. A reader of a language with a title "
               "but no text gets the original text.")


class ReportLanguage(Schema):
    lang = LanguageCode(metadata={"description": "The language to answer in (else Accept-Language, else each "
                                                 "report's original language)."})


class ReportIn(Schema):
    campaign_id = UUIDString(load_default=None, metadata={"description": "Needed when no event is named."})
    event_id = UUIDString(load_default=None, metadata={"description": "One of the organisation's events."})
    organisation_id = UUIDString(load_default=None, metadata={"description": "Coordinators: for whom."})
    country = CountryCode(load_default=None, metadata={"description": "Needed when no event is named."})
    title = fields.Dict(keys=LanguageCode(), values=Text(max_length=300), required=True,
                        validate=validate.Length(min=1, max=30), metadata={
                            "description": REPORT_TITLE, "example": {"sw": "Maandamano ya Nairobi", "en": "The march in Nairobi"}})
    text = fields.Dict(keys=LanguageCode(), values=Text(max_length=20_000, multiline=True), required=True,
                       validate=validate.Length(min=1, max=30), metadata={"description": REPORT_TEXT})
    turnout = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(min=0, max=100_000_000),
                             metadata={"description": "Estimated participants."})
    media_ids = fields.List(UUIDString(), load_default=list, validate=validate.Length(max=200))


class ReportPatch(Schema):
    title = fields.Dict(keys=LanguageCode(), values=Text(max_length=300), validate=validate.Length(min=1, max=30),
                        metadata={"description": REPORT_TITLE + " Replaces every title."})
    text = fields.Dict(keys=LanguageCode(), values=Text(max_length=20_000, multiline=True),
                       validate=validate.Length(min=1, max=30),
                       metadata={"description": REPORT_TEXT + " Replaces every text."})
    turnout = fields.Integer(allow_none=True, validate=validate.Range(min=0, max=100_000_000))
    media_ids = fields.List(UUIDString(), validate=validate.Length(max=200))


class Rejection(Schema):
    reason = Text(required=True, max_length=2000, multiline=True)


class ReportOut(Schema):
    id = UUIDString()
    campaign_id = UUIDString()
    event_id = UUIDString(allow_none=True)
    organisation_id = UUIDString()
    country = CountryCode()
    language = LanguageCode(metadata={"description": "The language chosen for the reader (`?lang=`, else "
                                                      "Accept-Language, else the original one), among the titles'."})
    title = fields.String(metadata={"description": "In `language`."})
    text = fields.String(metadata={"description": "In `language`, else in the original language."})
    titles = fields.Dict(keys=fields.String(), values=fields.String(), metadata={
        "description": "Every language's title, the original language first."})
    texts = fields.Dict(keys=fields.String(), values=fields.String(), metadata={
        "description": "Every language's text, the original language first."})
    languages = fields.List(fields.String(), metadata={"description": "The titles' languages, the original one "
                                                                      "(the report's fallback) first."})
    turnout = fields.Integer(allow_none=True)
    status = fields.String(metadata={"description": "submitted, published or rejected"})
    reason = fields.String(allow_none=True)
    media = fields.List(fields.Nested(MediaOut), metadata={
        "description": "The public sees only processed, consented media of events that have ended, and of each "
                       "only what MediaOut says the public sees; the report's organisation and coordinators see "
                       "all of it."})
    created_at = fields.AwareDateTime(format="iso")
    published_at = fields.AwareDateTime(format="iso", allow_none=True)


class ReportQuery(PageArgs, ReportLanguage):
    campaign_id = UUIDString(load_default=None)
    event_id = UUIDString(load_default=None)
    country = CountryCode(load_default=None)
    status = fields.String(load_default=None, validate=validate.OneOf(["submitted", "published", "rejected"]))


ReportPage = page_schema(ReportOut, "ReportPage")


class FeedQuery(Schema):
    country = CountryCode(load_default=None)


class Turnout(Schema):
    country = CountryCode()
    reports = fields.Integer()
    turnout = fields.Integer()


class TurnoutOut(Schema):
    campaign_id = UUIDString()
    countries = fields.List(fields.Nested(Turnout))
    total = fields.Integer()


class Policy(Schema):
    require_face_blur = fields.Boolean(required=True, metadata={
        "description": "Every public photo of the campaign must have had its faces blurred."})


class MaterialIn(Schema):
    kind = fields.String(required=True, validate=validate.OneOf(
        ["statement", "lecture", "song", "slogan", "poster", "video", "other"]))
    language = LanguageCode(required=True)
    title = Text(required=True, max_length=300)
    description = Text(load_default="", max_length=5000, multiline=True)
    media_id = UUIDString(required=True, metadata={"description": "A processed upload of the campaign."})


class MaterialVersionIn(Schema):
    kind = fields.String(validate=validate.OneOf(["statement", "lecture", "song", "slogan", "poster", "video",
                                                  "other"]))
    language = LanguageCode()
    title = Text(max_length=300)
    description = Text(max_length=5000, multiline=True)
    media_id = UUIDString(required=True)


class MaterialOut(Schema):
    id = UUIDString()
    series_id = UUIDString()
    version = fields.Integer()
    current = fields.Boolean()
    campaign_id = UUIDString()
    kind = fields.String()
    language = LanguageCode()
    title = fields.String()
    description = fields.String()
    media_id = UUIDString()
    file_url = fields.String()
    created_at = fields.AwareDateTime(format="iso")


class MaterialWithVersions(MaterialOut):
    versions = fields.List(fields.Nested(MaterialOut))


class MaterialZipQuery(Schema):
    language = LanguageCode(load_default=None, metadata={"description": "Only the items in this language."})


class MaterialQuery(PageArgs, MaterialZipQuery):
    pass


MaterialPage = page_schema(MaterialOut, "MaterialPage")


class MediaOverview(Schema):
    reports = fields.List(fields.Nested(ReportOut), metadata={
        "description": "The 20 newest published reports, as GET /reports?campaign_id=…&limit=20 gives them to "
                       "the public."})
    materials = fields.List(fields.Nested(MaterialOut), metadata={
        "description": "The current items of the package, as GET /campaigns/{id}/materials gives them."})
    turnout = fields.List(fields.Nested(Turnout), metadata={
        "description": "Turnout per country, as the `countries` of GET /campaigns/{id}/turnout."})
