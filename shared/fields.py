"""Marshmallow fields for the codes every service checks: countries, zones, languages, mail."""
from __future__ import annotations

import re
import unicodedata
import zoneinfo
from functools import lru_cache

import pycountry
from email_validator import SPECIAL_USE_DOMAIN_NAMES, EmailNotValidError, validate_email
from marshmallow import Schema, ValidationError, fields, validate, validates_schema


@lru_cache(maxsize=1)
def _zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


@lru_cache(maxsize=1)
def _countries() -> frozenset[str]:
    return frozenset(c.alpha_2 for c in pycountry.countries)


@lru_cache(maxsize=1)
def _languages() -> frozenset[str]:
    return frozenset(lang.alpha_2 for lang in pycountry.languages if hasattr(lang, "alpha_2"))


def is_country(code: str) -> bool:
    return code in _countries()


def is_timezone(name: str) -> bool:
    return name in _zones()


def is_language(code: str) -> bool:
    return code in _languages()


class _CodeField(fields.String):
    """A code from a known set: normalised on the way in, refused when the set lacks it, and
    listed as the document's enum. A subclass names its set, its normaliser and its refusal."""

    codes = staticmethod(lambda: frozenset())
    normal = staticmethod(str.strip)
    refusal = "is not a known code."

    def openapi(self) -> dict:
        return {"enum": sorted(self.codes())}

    def _deserialize(self, value, attr, data, **kwargs):
        code = self.normal(super()._deserialize(value, attr, data, **kwargs))
        if code not in self.codes():
            raise ValidationError(f"'{value}' {self.refusal}")
        return code


class CountryCode(_CodeField):
    """ISO 3166-1 alpha-2, any case in, upper case out."""

    codes, normal = staticmethod(_countries), staticmethod(lambda text: text.strip().upper())
    refusal = "is not an ISO 3166-1 alpha-2 country code (e.g. DE, KE, CO)."


class TimeZone(_CodeField):
    """An IANA zone name as in the tz database (tzdata), e.g. Asia/Kathmandu."""

    codes = staticmethod(_zones)
    refusal = "is not an IANA time zone (e.g. Europe/Berlin)."


class LanguageCode(_CodeField):
    """ISO 639-1 (two letters), any case in, lower case out."""

    codes, normal = staticmethod(_languages), staticmethod(lambda text: text.strip().lower())
    refusal = "is not an ISO 639-1 language code (e.g. en, fa, tr)."


class Email(fields.String):
    """An address e-mail can reach: checked by email-validator (no deliverability lookup), which
    refuses special-use domains (RFC 6761: .test, .local, .invalid…); the document says so."""

    NOT_SPECIAL_USE = r"^[^@]+@(?!([^@]*\.)?(%s)\.?$)[^@]+$" % "|".join(sorted(SPECIAL_USE_DOMAIN_NAMES))

    def openapi(self) -> dict:
        return {"format": "email", "maxLength": 254, "pattern": self.NOT_SPECIAL_USE}

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs).strip()
        try:
            return validate_email(text, check_deliverability=False).normalized
        except EmailNotValidError as exc:
            raise ValidationError(f"not a valid e-mail address: {exc}") from None


# Controls, lone surrogates, and the bidirectional overrides used to disguise text (while
# the joiners Persian needs, U+200C and U+200D, stay allowed).
BIDI_OVERRIDES = set("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def unsafe_character(text: str, allowed: set[str] = frozenset()) -> str | None:
    """The first character that has no place in stored text, or None."""
    for ch in text:
        if ch in allowed:
            continue
        if unicodedata.category(ch) in ("Cc", "Cs") or ch in BIDI_OVERRIDES or _noncharacter(ch):
            return ch
    return None


def _noncharacter(ch: str) -> bool:
    """U+FDD0–U+FDEF and the last two code points of every plane: never text, and XML 1.0
    cannot hold U+FFFE and U+FFFF (a feed with one breaks for every reader)."""
    code = ord(ch)
    return 0xFDD0 <= code <= 0xFDEF or code & 0xFFFE == 0xFFFE


def no_unsafe_characters(text: str) -> None:
    """A marshmallow validator."""
    if unsafe_character(text) is not None:
        raise ValidationError("must not contain control or invisible formatting characters.")


class Text(fields.String):
    """Printable text: stripped, NFC-normalised, no control characters, not blank."""

    def __init__(self, *args, max_length: int = 300, multiline: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.max_length = max_length
        self.multiline = multiline

    def openapi(self) -> dict:
        # `text`: printable, not blank; docs/api.md defines the format (JSON Schema has no
        # word for "no control characters" that every tool reads alike).
        return {"format": "multiline-text" if self.multiline else "text", "minLength": 1,
                "maxLength": self.max_length}

    def _deserialize(self, value, attr, data, **kwargs):
        text = unicodedata.normalize("NFC", super()._deserialize(value, attr, data, **kwargs)).strip()
        allowed = {"\n", "\t"} if self.multiline else set()
        if unsafe_character(text, allowed) is not None:
            raise ValidationError("must not contain control or invisible formatting characters.")
        if not text:
            raise ValidationError("must not be blank.")
        if len(text) > self.max_length:
            raise ValidationError(f"must be at most {self.max_length} characters.")
        return text


class LocalDateTime(fields.NaiveDateTime):
    """A wall-clock time with no offset (an event's local start, read in its own zone)."""

    def openapi(self) -> dict:
        # Not RFC 3339's date-time, which needs an offset: docs/api.md defines the format.
        return {"format": "local-date-time", "example": "2022-12-01T17:00:00"}


_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_PCHAR = r"(?:[A-Za-z0-9._~!$&'()*+,;=:@-]|%[0-9A-Fa-f]{2})"
WEB_ADDRESS = (rf"^https?://{_LABEL}(?:\.{_LABEL})+(?::[0-9]{{1,5}})?(?:/(?:{_PCHAR}|/)*)?"
               rf"(?:\?(?:{_PCHAR}|[/?])*)?(?:#(?:{_PCHAR}|[/?])*)?$")
_WEB_ADDRESS = re.compile(WEB_ADDRESS)


class WebAddress(fields.String):
    """An http(s) address with a host name that has a dot, in ASCII (percent-encoded, as a URI
    is): checked by the very pattern the OpenAPI document gives."""

    def __init__(self, *args, max_length: int = 500, **kwargs):
        super().__init__(*args, **kwargs)
        self.max_length = max_length

    def openapi(self) -> dict:
        return {"format": "uri", "pattern": WEB_ADDRESS, "maxLength": self.max_length}

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        if len(text) > self.max_length or not _WEB_ADDRESS.match(text):
            raise ValidationError("must be an http:// or https:// address with a host name (example.org), "
                                  "in ASCII: percent-encode other characters.")
        return text


class WholeNumber(fields.Integer):
    """A JSON integer: 12 or 12.0 (JSON Schema's integers both), never "12", 12.5 or true."""

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or \
                isinstance(value, float) and not value.is_integer():
            raise self.make_error("invalid")
        return super()._deserialize(int(value), attr, data, **kwargs)


class UniqueItems(validate.Validator):
    """A list's items each once (documented: uniqueItems)."""

    def __call__(self, values):
        if len(set(values)) != len(values):
            raise ValidationError("must not repeat an item.")
        return values


class UUIDString(fields.UUID):
    """A UUID, checked, kept as its canonical string."""

    def _deserialize(self, value, attr, data, **kwargs):
        return str(super()._deserialize(value, attr, data, **kwargs))


def openapi_properties(converter, field, **kwargs) -> dict:
    """What a field of ours promises, in the OpenAPI document (an apispec attribute function):
    its own description, or for a mapping, the names its keys may take (per-language text)."""
    describe = getattr(field, "openapi", None)
    if describe is not None:
        return describe()
    told = {}
    if any(isinstance(v, UniqueItems) for v in field.validators):
        told["uniqueItems"] = True
    if isinstance(field, fields.Dict):
        keys = field.key_field
        if keys is not None and hasattr(keys, "openapi"):
            told["propertyNames"] = keys.openapi()
    return told


class Changes(Schema):
    """A PATCH body: the fields to change, at least one (the document says so: minProperties)."""

    OPENAPI = {"minProperties": 1}

    @validates_schema
    def _not_empty(self, data, **kwargs):
        if not data:
            raise ValidationError("name at least one field to change.")
