"""Top-level URL map: API v1, admin, health probes, metrics, OpenAPI, tickets, dashboards and the start page."""

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from analytics.views import home
from config import health
from integrations.metrics import metrics_view

urlpatterns = [
    # First: Django tries patterns in order, and gate devices call /api/v1/ many times a second.
    path("api/v1/", include("config.api_urls")),
    path("admin/", admin.site.urls),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("metrics", metrics_view, name="metrics"),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("tickets/", include("participants.tickets.urls")),
    path("dashboard/", include("analytics.urls")),
    path("", home, name="home"),
]
