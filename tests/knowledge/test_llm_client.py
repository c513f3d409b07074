"""The one OpenAI-compatible client, against a real HTTP server on 127.0.0.1."""

import time

import pytest

from integrations.llm.client import LLMConfig, LLMError, chat_complete, chat_stream, embed, llm_configured


def test_not_configured_without_url_or_key(settings):
    settings.LLM_BASE_URL = ""
    settings.LLM_API_KEY = ""
    assert not llm_configured()
    with pytest.raises(LLMError):
        chat_complete(messages=[{"role": "user", "content": "hi"}])
    assert llm_configured(LLMConfig(base_url="http://127.0.0.1:9/v1", model="m"))


def test_chat_complete_and_stream(fake_openai, settings):
    fake_openai.configure(settings)
    fake_openai.reply("Hello from the fake model.")
    assert llm_configured()
    assert chat_complete(messages=[{"role": "user", "content": "hi"}]) == "Hello from the fake model."
    request = fake_openai.requests[-1]
    assert request["path"] == "/v1/chat/completions"
    assert request["body"]["model"] == "fake-model"
    assert request["authorization"] == "Bearer test-key"
    deltas = list(chat_stream(messages=[{"role": "user", "content": "hi"}]))
    assert len(deltas) > 1 and "".join(deltas) == "Hello from the fake model."
    assert fake_openai.requests[-1]["body"]["stream"] is True


def test_json_schema_output_is_checked(fake_openai, settings):
    fake_openai.configure(settings)
    schema = {"type": "object", "properties": {"ok": {"type": "boolean"}}, "required": ["ok"]}
    fake_openai.reply('{"ok": true}')
    assert chat_complete(messages=[{"role": "user", "content": "x"}], response_format_schema=schema) == '{"ok": true}'
    assert fake_openai.requests[-1]["body"]["response_format"]["type"] == "json_schema"
    fake_openai.reply("certainly! here is some prose")
    with pytest.raises(LLMError):
        chat_complete(messages=[{"role": "user", "content": "x"}], response_format_schema=schema)


def test_config_overrides_the_global_settings(fake_openai, settings):
    settings.LLM_BASE_URL = "http://127.0.0.1:9/v1"  # nothing listens there
    settings.LLM_MAX_RETRIES = 0
    fake_openai.reply("from the company's own provider")
    config = LLMConfig(base_url=fake_openai.base_url, api_key="company-key", model="company-model")
    reply = chat_complete(messages=[{"role": "user", "content": "x"}], config=config)
    assert reply == "from the company's own provider"
    assert fake_openai.requests[-1]["body"]["model"] == "company-model"
    assert fake_openai.requests[-1]["authorization"] == "Bearer company-key"


@pytest.mark.parametrize("failure", ["error", "hang", "malformed"])
def test_every_provider_failure_is_an_llm_error(fake_openai, settings, failure):
    fake_openai.configure(settings, timeout=0.5)
    getattr(fake_openai, {"error": "fail", "hang": "hang", "malformed": "malformed"}[failure])()
    started = time.monotonic()
    with pytest.raises(LLMError):
        chat_complete(messages=[{"role": "user", "content": "x"}])
    with pytest.raises(LLMError):
        list(chat_stream(messages=[{"role": "user", "content": "x"}]))
    assert time.monotonic() - started < 5  # the timeout holds, no endless retries


def test_stream_broken_midway_is_an_llm_error(fake_openai, settings):
    fake_openai.configure(settings)
    fake_openai.break_stream_after(2)
    received = []
    with pytest.raises(LLMError):
        for delta in chat_stream(messages=[{"role": "user", "content": "x"}]):
            received.append(delta)
    assert len(received) == 2


def test_embed(fake_openai, settings):
    fake_openai.configure(settings, embeddings=True)
    vectors = embed(texts=["a", "b", "a"], model="text-embedding-3-small", dimensions=384)
    assert len(vectors) == 3 and all(len(v) == 384 for v in vectors)
    assert vectors[0] == vectors[2] and vectors[0] != vectors[1]
    assert fake_openai.requests[-1]["body"]["dimensions"] == 384
    fake_openai.fail(500)
    with pytest.raises(LLMError):
        embed(texts=["a"])


def test_output_cap_in_the_form_each_model_takes(fake_openai, settings):
    from integrations.llm.providers import ProviderSpec, stream_text

    fake_openai.configure(settings)
    fake_openai.reply("Short.")
    chat_complete(messages=[{"role": "user", "content": "hi"}], max_tokens=50)
    body = fake_openai.requests[-1]["body"]
    assert body["max_tokens"] == 50 and body["temperature"] == 0.2 and "max_completion_tokens" not in body
    # reasoning models refuse max_tokens and any temperature but their own
    chat_complete(messages=[{"role": "user", "content": "hi"}], model="o3-mini", max_tokens=50)
    body = fake_openai.requests[-1]["body"]
    assert body["max_completion_tokens"] == 50 and "max_tokens" not in body and "temperature" not in body
    # a streamed answer keeps the cap (LLM_MAX_OUTPUT_TOKENS reaches it through the route's spec)
    spec = ProviderSpec(kind="openai", model="gpt-5-mini", max_tokens=77)
    assert "".join(stream_text(spec, messages=[{"role": "user", "content": "hi"}])) == "Short."
    body = fake_openai.requests[-1]["body"]
    assert body["stream"] is True and body["max_completion_tokens"] == 77
