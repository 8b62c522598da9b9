import re
import uuid

import pytest
from marshmallow import ValidationError

from shared.bus.catalogue import CATALOGUE, UnknownMessageType, validate_incoming, validate_outgoing

IRREGULAR_PARTICIPLES = {"withdrawn", "held"}

ORG = {"id": str(uuid.uuid4()), "abbreviation": "CPK", "name": "Communist Party of Kenya",
       "name_en": "Communist Party of Kenya", "country": "KE", "timezone": "Africa/Nairobi",
       "languages": ["sw", "en"], "website": None, "status": "active"}


def test_every_type_is_named_aggregate_dot_past_participle_and_documented():
    for name, kind in CATALOGUE.items():
        aggregate, _, verb = name.partition(".")
        assert re.fullmatch(r"[a-z_]+", aggregate), name
        assert verb.endswith("ed") or verb in IRREGULAR_PARTICIPLES, name
        assert kind.name == name and kind.version >= 1 and kind.doc and kind.sender


def test_a_publisher_cannot_send_fields_the_catalogue_does_not_declare():
    with pytest.raises(ValidationError) as err:
        validate_outgoing("organisation.registered", {**ORG, "contact_email": "a@b.org"})
    assert "contact_email" in err.value.messages


def test_a_consumer_ignores_fields_it_does_not_know_yet():
    data = validate_incoming("organisation.registered", {**ORG, "added_later": 1})
    assert "added_later" not in data and data["abbreviation"] == "CPK"


def test_missing_fields_are_refused_on_both_sides():
    broken = {k: v for k, v in ORG.items() if k != "country"}
    for validate in (validate_outgoing, validate_incoming):
        with pytest.raises(ValidationError) as err:
            validate("organisation.registered", broken)
        assert "country" in err.value.messages


def test_an_unknown_type_is_refused():
    with pytest.raises(UnknownMessageType):
        validate_outgoing("organisation.exploded", {})


def test_no_message_type_carries_contact_data():
    for kind in CATALOGUE.values():
        assert not any("email" in f or "phone" in f for f in kind.schema().fields), kind.name


REPORT_V1 = {"id": str(uuid.uuid4()), "campaign_id": str(uuid.uuid4()), "event_id": None,
             "organisation_id": str(uuid.uuid4()), "country": "IR", "title": "گزارش روز", "language": "fa",
             "turnout": 40, "status": "published"}


def test_a_report_message_of_version_1_still_queued_is_read_as_version_2_but_none_is_sent():
    read = validate_incoming("report.published", REPORT_V1)
    assert read["title"] == {"fa": "گزارش روز"} and read["language"] == "fa"
    with pytest.raises(ValidationError) as err:
        validate_outgoing("report.published", REPORT_V1)
    assert "title" in err.value.messages
