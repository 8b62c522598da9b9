from shared.http.problems import field_errors


def test_nested_validation_messages_become_one_error_per_field():
    errors = field_errors({"json": {"country": ["bad country"], "languages": {"0": ["bad code"]},
                                    "_schema": ["name at least one field"]},
                           "query": {"limit": ["too big"]}})
    assert {"field": "country", "location": "json", "message": "bad country"} in errors
    assert {"field": "languages.0", "location": "json", "message": "bad code"} in errors
    assert {"field": None, "location": "json", "message": "name at least one field"} in errors
    assert {"field": "limit", "location": "query", "message": "too big"} in errors
