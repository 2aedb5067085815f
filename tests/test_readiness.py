"""/readyz checks the Celery broker in real mode (embedded mode has none)."""

import pytest
from django.test import override_settings

pytestmark = pytest.mark.django_db


def test_readyz_answers_503_naming_the_broker_when_it_is_stopped(client, disposable_redis):
    with override_settings(CELERY_BROKER_URL=disposable_redis.url):
        assert client.get("/readyz").status_code == 200
        disposable_redis.stop()
        response = client.get("/readyz")
    assert response.status_code == 503
    assert set(response.json()["down"]) == {"broker"}


def test_readyz_in_embedded_mode_has_no_broker_to_check(client):
    with override_settings(CELERY_BROKER_URL="memory://"):
        response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "healthy"}
