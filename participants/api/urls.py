"""Participant API routes (included from config/api_urls.py)."""

from django.urls import path

from participants.api import views

urlpatterns = [
    path("events/<slug:slug>/participants", views.ParticipantListView.as_view(), name="participant-register"),
    path("events/<slug:slug>/participants/bulk", views.ParticipantBulkView.as_view(), name="participant-register-bulk"),
]
