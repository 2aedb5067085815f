from django.urls import path

from analytics.api import views

urlpatterns = [
    path("events/<slug:slug>/stats", views.EventStatsView.as_view(), name="event-stats"),
    path("events/<slug:slug>/analytics/realtime", views.RealtimeAnalyticsView.as_view(), name="event-analytics-realtime"),
]
