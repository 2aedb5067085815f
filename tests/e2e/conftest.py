"""Browser-test fixtures: a daphne server for pages whose websocket needs ASGI."""

import pytest

from tests.servers import AsgiServer


@pytest.fixture
def asgi_server(transactional_db):
    """daphne serving config.asgi in real mode against the test database (Postgres, channels-redis)."""
    server = AsgiServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()
