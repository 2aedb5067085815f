"""Logs: a request id on every line, and never a participant's email, phone number or ticket token."""

import io
import json
import logging
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from pythonjsonlogger.json import JsonFormatter

from config.logs import ScrubPersonalData, scrub
from participants.tokens import format_token, generate_token


@pytest.fixture
def console():
    """The console handler configured by settings.LOGGING, writing into a buffer for the test."""
    handler = next(h for h in logging.getLogger().handlers if any(isinstance(f, ScrubPersonalData) for f in h.filters))
    buffer = io.StringIO()
    previous_stream, previous_formatter = handler.setStream(buffer), handler.formatter
    yield handler, buffer
    handler.setStream(previous_stream)
    handler.setFormatter(previous_formatter)


def test_emails_phones_and_tokens_are_masked_wherever_they_appear_in_a_message():
    token = generate_token()
    text = (
        f"kim.minsu+vip@example.co.kr scanned {token} and {format_token(token, 'TCF24')} "
        f"and {format_token(token).lower()}, call +821012345678 or +82 10-1234-5678 or 010-1234-5678"
    )
    scrubbed = scrub(text)
    assert "example.co.kr" not in scrubbed
    assert token not in scrubbed and token[:5] not in scrubbed.upper()
    assert "1234" not in scrubbed
    assert scrubbed.count("[token]") == 3
    assert scrubbed.count("[phone]") == 3
    assert scrubbed.count("[email]") == 1


def test_ordinary_numbers_ids_and_timestamps_are_left_alone():
    text = f"event 42 at 2026-11-22 19:53:09,647 took 1234 ms; scan {uuid.uuid4()} hash {'a1' * 32}"
    assert scrub(text) == text


def test_the_configured_handler_scrubs_arguments_exceptions_and_extra_fields(console):
    handler, buffer = console
    handler.setFormatter(JsonFormatter("%(levelname)s %(name)s %(request_id)s %(message)s"))
    token = generate_token()
    logger = logging.getLogger("gatehouse.test")
    try:
        raise ValueError(f"duplicate key (email)=(lee@example.com) token {token}")
    except ValueError:
        logger.exception("import of %s failed", "park@example.org", extra={"phone": "+821099998888", "who": ["x@y.io"]})
    line = json.loads(buffer.getvalue().strip().splitlines()[-1])
    written = json.dumps(line)
    assert "example" not in written and "y.io" not in written
    assert token not in written and "99998888" not in written
    assert line["message"] == "import of [email] failed"
    assert "ValueError: duplicate key (email)=([email]) token [token]" in line["exc_info"]
    assert line["phone"] == "[phone]"


def test_a_request_gets_a_request_id_that_is_in_its_log_lines_and_its_response(client, console):
    handler, buffer = console
    response = client.get("/no-such-page/someone@example.com/")
    assert response.status_code == 404
    request_id = response["X-Request-ID"]
    assert len(request_id) == 32
    line = next(line for line in buffer.getvalue().splitlines() if "Not Found" in line)
    assert f"[{request_id}]" in line
    assert "someone@example.com" not in line and "[email]" in line


def test_an_incoming_request_id_is_kept(client):
    incoming = uuid.uuid4().hex
    response = client.get("/no-such-page/", HTTP_X_REQUEST_ID=incoming)
    assert response["X-Request-ID"] == incoming


def test_production_logs_are_json_lines_with_a_request_id_field_and_no_personal_data():
    import os
    import subprocess
    import sys
    from pathlib import Path

    environment = {
        **os.environ,
        "DJANGO_ENV": "production",
        "SECRET_KEY": "x" * 64,
        "ALLOWED_HOSTS": "gatehouse.example.com",
    }
    script = (
        "import django, logging; django.setup(); "
        "logging.getLogger('gatehouse.probe').warning('ticket for %s', 'choi@example.com')"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=Path(__file__).resolve().parent.parent,
        env={**environment, "DJANGO_SETTINGS_MODULE": "config.settings"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    line = json.loads(result.stderr.strip().splitlines()[-1])
    assert line["message"] == "ticket for [email]"
    assert line["levelname"] == "WARNING"
    assert "request_id" in line


@pytest.mark.parametrize(("level", "is_written"), [("ERROR", False), ("WARNING", True)])
def test_log_level_also_holds_for_djangos_own_loggers(level, is_written):
    # django.request warns of every 4xx (each refused scan) at its own INFO level: LOG_LEVEL=ERROR
    # must keep those lines out, as it keeps out ours.
    script = "import logging; logging.getLogger('django.request').warning('Conflict: /api/v1/attendance/record')"
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", script],
        cwd=Path(__file__).resolve().parent.parent,
        env={**os.environ, "LOG_LEVEL": level, "DEBUG": "false"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert ("Conflict: /api/v1/attendance/record" in result.stderr) is is_written
