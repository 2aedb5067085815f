"""API v1 route for bounce notifications."""

from django.urls import path

from participants.api.bounces import BounceView

urlpatterns = [path("email/bounces", BounceView.as_view(), name="email-bounces")]
