"""What a test needs to point a server process of ours (gunicorn, a Celery worker) at its database."""

from urllib.parse import quote

from django.conf import settings


def test_database_url() -> str:
    """The test database as a DATABASE_URL (pytest-django has pointed settings at test_…)."""
    database = settings.DATABASES["default"]
    credentials = quote(database["USER"] or "", safe="")
    if database.get("PASSWORD"):
        credentials += ":" + quote(database["PASSWORD"], safe="")
    return f"postgres://{credentials}@{database['HOST'] or '127.0.0.1'}:{database['PORT'] or 5432}/{database['NAME']}"


test_database_url.__test__ = False  # a helper, not a test, despite its name
