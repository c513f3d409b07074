"""Slack: meeting reports posted to a channel, with a bot token (chat.postMessage) or an incoming webhook."""

from __future__ import annotations

from typing import Any

from integrations.models import Provider
from integrations.slack.blocks import connected_blocks
from integrations.slack.client import SlackClient, webhook_post
from integrations.spec import Field, ProviderError, ProviderSpec, register


def slack_send(config: dict[str, Any], secrets: dict[str, Any], *, text: str, blocks: list[dict[str, Any]]) -> str:
    """Post with whichever credentials the connection has: the bot token (to ``channel``) or the webhook."""
    if secrets.get("bot_token"):
        if not config.get("channel"):
            raise ProviderError("Enter the channel to post to (for example #meetings).")
        SlackClient(token=secrets["bot_token"]).post_message(channel=config["channel"], text=text, blocks=blocks)
        return f"posted to {config['channel']}"
    if secrets.get("webhook_url"):
        webhook_post(secrets["webhook_url"], text=text, blocks=blocks)
        return "posted through the incoming webhook"
    raise ProviderError("Enter a bot token and a channel, or an incoming webhook URL.")


def connection_test(config: dict[str, Any], secrets: dict[str, Any]) -> str:
    if secrets.get("bot_token"):
        identity = SlackClient(token=secrets["bot_token"]).auth_test()
        return f"Connected to {identity.get('team', 'Slack')} as {identity.get('user', 'the app')}."
    text, blocks = connected_blocks()
    return "Sent a test message: " + slack_send(config, secrets, text=text, blocks=blocks) + "."


SPEC = register(ProviderSpec(
    provider=Provider.SLACK,
    label="Slack",
    help="After each meeting, its summary, decisions and action items with owners are posted to a channel.",
    fields=(
        Field("bot_token", "Bot token", secret=True, help="The Bot User OAuth Token (xoxb-…) of a Slack app with "
                                                          "the chat:write scope, invited to the channel."),
        Field("channel", "Channel", help="#channel or a channel id (with a bot token)."),
        Field("webhook_url", "Incoming webhook URL", secret=True, kind="url",
              help="Instead of a bot token: https://hooks.slack.com/services/… (posts to its own channel)."),
    ),
    test=connection_test,
))
