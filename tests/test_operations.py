"""Operations: health probes, production settings, the docker compose file."""

import os
import re
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


def test_imports_keep_the_layering_in_design_md():
    """pyproject.toml's import contracts: one-way app dependencies, integrations and config on top, no cycles."""
    lint_imports = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run([lint_imports, "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-4000:]
    assert "BROKEN" not in result.stdout and " KEPT" in result.stdout


def _ticket_email_link(server) -> str:
    """Send one participant's ticket through the admin of `server` (embedded mode) and return the link in the email."""
    import requests

    from tests.waiting import wait_until

    server.manage("migrate", "-v0")
    server.manage("seed_demo", "--participants", "5")
    credentials = server.log_path.parent / "admin-credentials"
    login_line = server.manage("ensure_demo_admin", "--credentials-file", str(credentials)).strip().splitlines()[-1]
    password = login_line.rsplit("password: ", 1)[1]
    participant_pk = server.manage(
        "shell", "-v0", "-c", "from participants.models import Participant; print(Participant.objects.first().pk)"
    )
    server.start()
    try:
        session = requests.Session()
        session.get(f"{server.url}/admin/login/", timeout=10)
        session.post(
            f"{server.url}/admin/login/?next=/admin/",
            data={"username": "admin", "password": password, "csrfmiddlewaretoken": session.cookies["csrftoken"]},
            timeout=10,
        ).raise_for_status()
        answer = session.post(
            f"{server.url}/admin/participants/participant/",
            data={
                "action": "send_tickets_to_selected",
                "_selected_action": participant_pk.strip(),
                "index": "0",
                "select_across": "0",
                "csrfmiddlewaretoken": session.cookies["csrftoken"],
            },
            timeout=30,
        )
        assert answer.status_code == 200 and "Queued 1 ticket email" in answer.text, answer.text[-2000:]
        # Embedded mode: the email is sent in the server's process, to its console.
        found = wait_until(
            lambda: re.search(r"(https?://[^\s\"'<>]+)/tickets/", server.log()), timeout=30, message="a ticket email"
        )
        return found.group(1)
    finally:
        server.stop()


def test_make_runs_server_puts_the_port_it_serves_in_ticket_links(tmp_path):
    from tests.analytics.embedded import EmbeddedServer

    server = EmbeddedServer(tmp_path)
    assert server.port != 8000
    assert _ticket_email_link(server) == f"http://127.0.0.1:{server.port}"


def test_an_explicit_public_base_url_wins_over_the_served_port(tmp_path):
    from tests.analytics.embedded import EmbeddedServer

    server = EmbeddedServer(tmp_path, PUBLIC_BASE_URL="https://checkin.example.org")
    assert _ticket_email_link(server) == "https://checkin.example.org"


def test_make_run_prints_the_port_it_serves_everywhere(tmp_path):
    """`make run PORT=8765` up to (not including) the blocking runserver, on a SQLite file of its own."""
    environment = {key: value for key, value in os.environ.items() if key not in ("DATABASE_URL", "REDIS_URL", "PUBLIC_BASE_URL")}
    environment["DATABASE_URL"] = f"sqlite:///{tmp_path / 'make-run.sqlite3'}"
    steps = subprocess.run(["make", "-n", "run", "PORT=8765"], cwd=ROOT, capture_output=True, text=True, timeout=60, check=True)
    lines = [line for line in steps.stdout.splitlines() if "manage.py" in line or line.startswith("echo")]
    assert lines[-1].endswith("manage.py runserver 127.0.0.1:8765")
    printed = ""
    for line in lines[:-1]:
        if "ensure_demo_admin" in line:
            line += f" --credentials-file {tmp_path / 'admin'}"
        if "seed_demo" in line:
            line += " --participants 5"
        result = subprocess.run(line, shell=True, cwd=ROOT, env=environment, capture_output=True, text=True, timeout=300)  # noqa: S602 - make's own recipe
        assert result.returncode == 0, result.stdout + result.stderr
        printed += result.stdout
    urls = re.findall(r"https?://[^\s/]+", printed)
    assert urls and set(urls) == {"http://127.0.0.1:8765"}, printed
