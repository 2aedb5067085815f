"""Gate API v1 routes (DESIGN.md, "Gate API contract")."""

from django.urls import path

from attendance.api import views

urlpatterns = [
    path("attendance/record", views.RecordScanView.as_view(), name="attendance-record"),
    path("attendance/batch", views.RecordBatchView.as_view(), name="attendance-batch"),
    path("tokens/verify", views.TokenVerifyView.as_view(), name="tokens-verify"),
    path("events/<slug:slug>/gate-sync", views.GateSyncView.as_view(), name="events-gate-sync"),
]
