"""The one NinjaAPI: every app mounts its router here."""

from accounts.api import router as accounts_router
from accounts.auth import api_auth
from ai.api import router as ai_router
from integrations.api import router as integrations_router
from integrations.webhooks.api import router as webhooks_router
from knowledge.api import router as knowledge_router
from meetings.api import router as meetings_router
from meetings.intelligence.api import router as intelligence_router
from meetings.live.api import router as live_router
from meetings.uploads.api import router as uploads_router
from meetings.voices.api import router as voices_router
from meetpilot.apikit import ApiParser, DocumentedNinjaAPI, OfflineSwagger, install_error_handlers
from meetpilot.ratelimit import ApiRateThrottle
from workflows.api import router as workflows_router

api = DocumentedNinjaAPI(
    title="MeetPilot API",
    version="1",
    description=(
        "Authenticate with `Authorization: Bearer <token>` (create a token under API tokens in the "
        "dashboard) or, from the dashboard itself, with the session cookie and CSRF header. "
        "Errors are JSON: `{\"detail\": ..., \"code\": ...}`. Lists are paginated with `page` and `page_size`."
    ),
    auth=api_auth,
    parser=ApiParser(),
    docs=OfflineSwagger(),
    throttle=[ApiRateThrottle()],
    urls_namespace="api",
)
install_error_handlers(api)

api.add_router("/", accounts_router)
# Before meetings: its /meetings/{meeting_id} would otherwise also match /meetings/search.
api.add_router("/", intelligence_router)
api.add_router("/", ai_router)
api.add_router("/", meetings_router)
api.add_router("/", knowledge_router)
api.add_router("/", uploads_router)
api.add_router("/", voices_router)
api.add_router("/", live_router)
api.add_router("/", integrations_router)
api.add_router("/", workflows_router)

api.add_router("/", webhooks_router)
