"""Websocket routes served by Channels (see config.asgi)."""

websocket_urlpatterns: list = []
