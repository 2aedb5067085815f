"""Operations: health probes, production settings, the docker compose file."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from django.test import override_settings

ROOT = Path(__file__).resolve().parent.parent


def test_healthz_answers_healthy(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "healthy"}


@pytest.mark.django_db
def test_readyz_answers_healthy_when_database_and_redis_answer(client):
    response = client.get("/readyz")
    assert response.status_code == 200, response.content
    assert response.json() == {"status": "healthy"}


@pytest.mark.django_db
def test_readyz_answers_503_naming_redis_when_it_is_stopped(client, disposable_redis):
    cache_on_disposable_redis = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": disposable_redis.url}
    }
    with override_settings(CACHES=cache_on_disposable_redis):
        assert client.get("/readyz").status_code == 200
        disposable_redis.stop()
        response = client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unhealthy"
    assert "cache" in body["down"]
    assert "database" not in body["down"]


def test_production_settings_pass_check_deploy():
    environment = {
        **os.environ,
        "DJANGO_ENV": "production",
        "SECRET_KEY": secrets.token_urlsafe(64),
        "ALLOWED_HOSTS": "gatehouse.example.com",
    }
    environment.pop("DEBUG", None)
    environment.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)  # set by the browser tests in this process
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_settings_refuse_to_start_without_a_secret_key():
    environment = {**os.environ, "DJANGO_ENV": "production", "ALLOWED_HOSTS": "gatehouse.example.com"}
    environment.pop("SECRET_KEY", None)
    result = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=environment, capture_output=True, text=True, timeout=120
    )
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_compose_file_names_the_services_and_images_build_from_the_dockerfile():
    compose = yaml.safe_load((ROOT / "docker" / "compose.yaml").read_text())
    assert {"postgres", "redis", "web", "worker", "beat"} <= set(compose["services"])
    for name in ("web", "worker", "beat"):
        service = compose["services"][name]
        assert "DATABASE_URL" in service["environment"] or "DATABASE_URL" in str(service.get("environment"))
    assert "celery" in " ".join(compose["services"]["worker"]["command"])
    dockerfile = (ROOT / "docker" / "Dockerfile").read_text()
    assert "USER gatehouse" in dockerfile, "the image runs as a non-root user"


def test_ruff_is_clean():
    result = subprocess.run([sys.executable, "-m", "ruff", "check", "."], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout
