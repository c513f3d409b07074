"""Slack's client and connection test against a fake Slack on 127.0.0.1 (no database needed)."""

from __future__ import annotations

import pytest

from integrations.slack import SPEC, slack_send
from integrations.spec import ProviderError
from tests.fakes.slack_server import BOT_TOKEN, FakeSlack


@pytest.fixture
def slack(settings):
    with FakeSlack() as fake:
        settings.SLACK_API_URL = fake.api_url
        settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True  # the fake's incoming webhook is on 127.0.0.1
        yield fake


def test_the_connection_test_uses_auth_test_and_explains_slack_errors(slack):
    assert SPEC.test({"channel": "#meetings"}, {"bot_token": BOT_TOKEN}) == "Connected to Acme HQ as meetpilot."
    with pytest.raises(ProviderError, match="refused the bot token"):
        SPEC.test({}, {"bot_token": "xoxb-wrong"})
    with pytest.raises(ProviderError, match="does not know that channel"):
        slack_send({"channel": "#nope"}, {"bot_token": BOT_TOKEN}, text="hi", blocks=[])
    assert SPEC.test({}, {"webhook_url": slack.webhook_url}).startswith("Sent a test message")
    assert slack.messages[-1]["text"].startswith("MeetPilot is connected")
    with pytest.raises(ProviderError, match="bot token and a channel, or an incoming webhook"):
        SPEC.test({}, {})


def test_an_incoming_webhook_on_an_internal_address_is_refused(slack, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = False
    with pytest.raises(ProviderError, match=r"this server itself|private or internal"):
        slack_send({}, {"webhook_url": slack.webhook_url}, text="hi", blocks=[])
    assert slack.requests == []
