"""API v1 route for bounce notifications (included from config/api_urls.py)."""

from django.urls import path

from participants.tickets.bounces import BounceView

urlpatterns = [path("email/bounces", BounceView.as_view(), name="email-bounces")]
