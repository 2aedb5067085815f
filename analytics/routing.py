"""Websocket routes served by Channels (see config.asgi)."""

from django.urls import path

from analytics.consumers import EventStatsConsumer

websocket_urlpatterns: list = [
    path("ws/events/<slug:slug>/stats/", EventStatsConsumer.as_asgi()),
]
