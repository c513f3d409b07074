from django.contrib import admin
from django.http import JsonResponse
from django.shortcuts import render
from django.urls import include, path
from django.views.generic import RedirectView
from django_prometheus.exports import ExportToDjangoView

from accounts import views as account_views
from meetpilot import health, observability
from meetpilot.api import api


def metrics(request):
    """Prometheus metrics (every process's with PROMETHEUS_MULTIPROC_DIR), queue gauges read from the broker now."""
    observability.refresh_queue_gauges()
    return ExportToDjangoView(request)


dashboard_patterns = ([path("", account_views.home, name="home")], "dashboard")

urlpatterns = [
    path("health", health.health, name="health"),
    path("ready", health.ready, name="ready"),
    path("metrics", metrics, name="prometheus-django-metrics"),
    path("api/docs", RedirectView.as_view(url="/api/v1/docs", permanent=False)),
    path("api/v1/", api.urls),
    path("accounts/", include("allauth.urls")),
    path("admin/", admin.site.urls),
    path("", include(dashboard_patterns)),
    path("", include("accounts.urls")),
    path("", include("knowledge.urls")),
    path("", include("meetings.urls")),
    path("", include("meetings.uploads.urls")),
    path("", include("meetings.voices.urls")),
    path("", include("meetings.intelligence.urls")),
    path("", include("ai.urls")),
    # Webhooks before the Integrations page: its /integrations/<provider>/ would take /integrations/webhooks/.
    path("", include("integrations.webhooks.urls")),
    path("", include("integrations.urls")),
    path("", include("workflows.urls")),
]


def _error_view(status: int, code: str, detail: str):
    def view(request, exception=None):
        if request.path.startswith("/api/"):
            return JsonResponse({"detail": detail, "code": code}, status=status)
        return render(request, "error.html", {"status": status, "detail": detail}, status=status)

    return view


handler400 = _error_view(400, "bad_request", "Bad request.")
handler403 = _error_view(403, "permission_denied", "You do not have permission to do that.")
handler404 = _error_view(404, "not_found", "Not found.")
handler500 = _error_view(500, "server_error", "Something went wrong on our side.")
