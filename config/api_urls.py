"""API v1 routes, collected from each app's api/urls.py."""

from django.urls import include, path

urlpatterns: list = [
    path("", include("attendance.api.urls")),  # first: the gate endpoints are the busiest
    path("", include("analytics.api.urls")),
    path("", include("participants.api.urls")),
    path("", include("participants.tickets.api_urls")),
]
