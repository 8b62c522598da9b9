"""W3C traceparent: what is taken as given, what starts a new trace."""
from __future__ import annotations

from shared import tracing

GIVEN = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


def test_a_valid_traceparent_is_continued_with_a_new_parent_id():
    nxt = tracing.continued(GIVEN)
    version, trace_id, parent, flags = nxt.split("-")
    assert (version, trace_id, flags) == ("00", "4bf92f3577b34da6a3ce929d0e0e4736", "01")
    assert parent != "00f067aa0ba902b7" and len(parent) == 16
    assert tracing.parse(nxt) == ("4bf92f3577b34da6a3ce929d0e0e4736", "01")


def test_what_is_not_a_valid_traceparent_starts_a_new_trace():
    for bad in (None, "", "rubbish", GIVEN.replace("00-", "ff-", 1), f"00-{'0' * 32}-00f067aa0ba902b7-01",
                "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01", GIVEN + "-extra", 42):
        assert tracing.parse(bad) is None, bad
        assert tracing.parse(tracing.continued(bad)) is not None
        assert tracing.continued(bad).split("-")[1] != "4bf92f3577b34da6a3ce929d0e0e4736"


def test_a_later_version_may_add_fields():
    assert tracing.parse("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00-more") is not None


def test_a_handled_message_sets_the_trace_only_while_it_is_handled():
    assert tracing.current_trace_id() is None and tracing.outgoing() == {}
    with tracing.handling({"traceparent": GIVEN}):
        assert tracing.current_trace_id() == "4bf92f3577b34da6a3ce929d0e0e4736"
        assert tracing.outgoing()["traceparent"].split("-")[1] == "4bf92f3577b34da6a3ce929d0e0e4736"
    assert tracing.current_trace_id() is None
