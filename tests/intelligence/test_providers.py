"""Provider routing, structured output and failures, against fake servers on 127.0.0.1."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from pydantic import BaseModel

from accounts.tenancy import tenant_scope
from ai import services
from ai.models import AIProviderSettings
from ai.routing import route_for
from integrations.llm.providers import ProviderError, ProviderSpec, complete_structured, stream_text, strict_schema

pytestmark = pytest.mark.django_db


class Answer(BaseModel):
    answer: str
    confidence: float


# --- routing --------------------------------------------------------------------------------


def test_no_keys_routes_to_local(company, scope):
    route = route_for(company=company, prompt_type="summary")
    assert route.spec is None and route.label == "local"


def test_global_llm_is_used_automatically(company, scope, settings):
    settings.LLM_BASE_URL, settings.LLM_MODEL = "http://127.0.0.1:9/v1", "global-model"
    route = route_for(company=company, prompt_type="summary")
    assert route.spec.kind == "openai" and route.spec.base_url == "" and route.label == "openai:global-model"


def test_company_settings_prompt_choice_and_missing_anthropic(company, scope, settings):
    services.provider_settings_update(company=company, openai_base_url="http://127.0.0.1:11434/v1",
                                      openai_model="llama3.1", openai_api_key="sk-company-secret")
    route = route_for(company=company, prompt_type="summary")
    assert route.spec.base_url == "http://127.0.0.1:11434/v1" and route.spec.api_key == "sk-company-secret"
    assert route.label == "openai:llama3.1"
    services.prompt_save(company=company, prompt_type="summary", body="Short.", provider="openai", model="qwen2.5")
    assert route_for(company=company, prompt_type="summary").label == "openai:qwen2.5"
    # Anthropic chosen but no key anywhere: local, and the label says why.
    services.prompt_save(company=company, prompt_type="decisions", body="Decisions.", provider="anthropic")
    route = route_for(company=company, prompt_type="decisions")
    assert route.spec is None and route.label == "local (fallback: anthropic not configured)"
    services.prompt_save(company=company, prompt_type="answer", body="Answer.", provider="local")
    assert route_for(company=company, prompt_type="answer").spec is None


def test_api_keys_are_write_only_and_encrypted(admin, member, company):
    response = admin.api().patch("/api/v1/ai/providers", {"openai_base_url": "http://127.0.0.1:8000/v1",
                                                          "openai_api_key": "sk-very-secret-123"},
                                 content_type="application/json")
    assert response.status_code == 200, response.content
    assert b"sk-very-secret" not in response.content and response.json()["openai_api_key_set"] is True
    shown = admin.api().get("/api/v1/ai/providers")
    assert b"sk-very-secret" not in shown.content
    with tenant_scope(company):
        row = AIProviderSettings.objects.get()
        assert row.openai_api_key_encrypted and "sk-very-secret" not in row.openai_api_key_encrypted
    page = admin.browser().get("/prompts/")
    assert b"sk-very-secret" not in page.content and b"stored" in page.content
    # A key left out keeps the stored one; "" removes it.
    admin.api().patch("/api/v1/ai/providers", {"openai_model": "m"}, content_type="application/json")
    assert admin.api().get("/api/v1/ai/providers").json()["openai_api_key_set"] is True
    admin.api().patch("/api/v1/ai/providers", {"openai_api_key": ""}, content_type="application/json")
    assert admin.api().get("/api/v1/ai/providers").json()["openai_api_key_set"] is False
    assert member.api().get("/api/v1/ai/providers").status_code == 403


# --- the OpenAI-compatible provider through the fake server ------------------------------------


def test_structured_output_is_validated(fake_openai, settings):
    fake_openai.configure(settings)
    fake_openai.reply(json.dumps({"answer": "42", "confidence": 0.9}))
    spec = ProviderSpec(kind="openai", model="fake-model", timeout=1)
    out = complete_structured(spec, messages=[{"role": "user", "content": "?"}], output=Answer)
    assert out == Answer(answer="42", confidence=0.9)
    sent = fake_openai.requests[-1]["body"]
    assert sent["response_format"]["json_schema"]["schema"] == strict_schema(Answer)
    assert sent["response_format"]["json_schema"]["schema"]["additionalProperties"] is False


@pytest.mark.parametrize(("program", "reason"), [
    (lambda f: f.fail(500), "http 500"),
    (lambda f: f.hang(), "timeout"),
    (lambda f: f.malformed(), "invalid output"),
    (lambda f: f.reply('{"answer": "no confidence field"}'), "invalid output"),
])
def test_provider_failures_have_reasons(fake_openai, settings, program, reason):
    fake_openai.configure(settings, timeout=0.5)
    program(fake_openai)
    spec = ProviderSpec(kind="openai", model="fake-model", timeout=0.5)
    with pytest.raises(ProviderError) as caught:
        complete_structured(spec, messages=[{"role": "user", "content": "?"}], output=Answer)
    assert caught.value.reason == reason


def test_invalid_json_is_asked_for_again_once(fake_openai, settings):
    fake_openai.configure(settings)
    fake_openai.reply('{"answer": "missing"}')
    spec = ProviderSpec(kind="openai", model="fake-model", timeout=1)
    with pytest.raises(ProviderError):
        complete_structured(spec, messages=[{"role": "user", "content": "?"}], output=Answer)
    assert len(fake_openai.requests) == 2
    assert "did not match the JSON schema" in fake_openai.requests[-1]["body"]["messages"][-1]["content"]


# --- Anthropic's Messages API through a fake server ----------------------------------------------


class FakeAnthropic:
    def __init__(self) -> None:
        self.mode = "ok"
        self.text = '{"answer": "from claude", "confidence": 0.7}'
        self.requests: list[dict] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                fake.requests.append({"path": self.path, "body": body, "key": self.headers.get("x-api-key"),
                                      "version": self.headers.get("anthropic-version")})
                if fake.mode == "error":
                    data = b'{"type": "error", "error": {"type": "overloaded_error"}}'
                    self.send_response(529)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                    return
                if body.get("stream"):
                    self.send_response(200)
                    self.send_header("Content-Type", "text/event-stream")
                    self.send_header("Connection", "close")
                    self.end_headers()
                    for piece in ("Hello ", "from ", "Claude."):
                        event = {"type": "content_block_delta", "index": 0,
                                 "delta": {"type": "text_delta", "text": piece}}
                        self.wfile.write(f"event: content_block_delta\ndata: {json.dumps(event)}\n\n".encode())
                    self.wfile.write(b'event: message_stop\ndata: {"type": "message_stop"}\n\n')
                    self.close_connection = True
                    return
                data = json.dumps({"type": "message", "role": "assistant",
                                   "content": [{"type": "text", "text": fake.text}]}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()
        self.base_url = f"http://127.0.0.1:{self.server.server_address[1]}"


@pytest.fixture
def fake_anthropic():
    fake = FakeAnthropic()
    yield fake
    fake.server.shutdown()
    fake.server.server_close()


def test_anthropic_structured_and_streaming(fake_anthropic, company, scope):
    services.provider_settings_update(company=company, default_provider="anthropic", anthropic_api_key="ak-test",
                                      anthropic_base_url=fake_anthropic.base_url, anthropic_model="claude-test")
    route = route_for(company=company, prompt_type="answer")
    assert route.label == "anthropic:claude-test"
    out = complete_structured(route.spec, messages=[{"role": "system", "content": "Be exact."},
                                                    {"role": "user", "content": "?"}], output=Answer)
    assert out.answer == "from claude"
    sent = fake_anthropic.requests[-1]
    assert sent["path"] == "/v1/messages" and sent["key"] == "ak-test" and sent["version"] == "2023-06-01"
    assert sent["body"]["system"].startswith("Be exact.") and "JSON schema" in sent["body"]["system"]
    assert [m["role"] for m in sent["body"]["messages"]] == ["user"]
    assert "".join(stream_text(route.spec, messages=[{"role": "user", "content": "hi"}])) == "Hello from Claude."

    fake_anthropic.mode = "error"
    with pytest.raises(ProviderError) as caught:
        complete_structured(route.spec, messages=[{"role": "user", "content": "?"}], output=Answer)
    assert caught.value.reason == "http 529"
