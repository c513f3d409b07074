"""The handshake's debug line of autobahn: formatted only when it is logged, with the same text."""

from __future__ import annotations

import pprint

from autobahn.websocket import protocol

from meetings.live.handshake import lazy_connect_log


def test_the_connect_log_argument_is_formatted_only_when_read():
    assert lazy_connect_log() and lazy_connect_log()  # idempotent
    calls = []

    class Options(list):
        def __repr__(self) -> str:
            calls.append(1)
            return list.__repr__(self)

    value = protocol.pformat(Options([("autoPingInterval", 0, "WebSocketServerFactory")]))
    assert calls == []  # built per connection, never formatted while debug logging is off
    assert f"\n{value}" == "\n" + pprint.pformat(Options([("autoPingInterval", 0, "WebSocketServerFactory")]))
    assert calls


def test_timings_still_print_as_text():
    lazy_connect_log()
    timings = protocol.Timings()
    timings.track("onOpen")
    assert str(timings).startswith("{'onOpen'")
