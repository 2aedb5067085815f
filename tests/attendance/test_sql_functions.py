"""SQL functions are versioned like migrations (attendance/sql/README.md): each file is frozen and
installed by the migration of its number, and the database holds the latest file's function."""

import importlib
import re
from pathlib import Path

import pytest
from django.db import connection

import attendance
from attendance.migrations._frozen_sql import frozen_sql

VERSIONS = Path(attendance.__file__).resolve().parent / "sql" / "record_scan"
MIGRATIONS = Path(attendance.__file__).resolve().parent / "migrations"
SIGNATURE = "gatehouse_record_scan(jsonb,text)"


def latest_version() -> Path:
    return max(VERSIONS.glob("[0-9][0-9][0-9][0-9].sql"))


def definition(schema: str) -> str:
    """The function as Postgres prints it back (name, arguments, result, language, volatility,
    body), with the schema left out and whitespace runs folded: comments outside the body and
    re-indentation of the CREATE line are not a change, anything else is."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_get_functiondef(%s::regprocedure)", [f"{schema}.{SIGNATURE}"])
        text = cursor.fetchone()[0]
    return " ".join(text.replace(f"{schema}.gatehouse_record_scan(", "gatehouse_record_scan(", 1).split())


@pytest.mark.django_db
def test_installed_function_is_the_latest_version():
    installed = definition("public")
    with connection.cursor() as cursor:
        # The latest file, installed beside the migrated one in a schema of its own; the test's
        # transaction rolls both back.
        cursor.execute("CREATE SCHEMA gh_latest_sql")
        cursor.execute("SET LOCAL search_path TO gh_latest_sql, public")
        cursor.execute(latest_version().read_text())
        cursor.execute("SET LOCAL search_path TO DEFAULT")
    assert definition("gh_latest_sql") == installed, (
        f"{latest_version().relative_to(VERSIONS.parents[2])} is not what the migrations install: a change to the "
        "function is a new file and a new migration (attendance/sql/README.md), never an edit of a committed one."
    )


def test_every_version_is_installed_by_the_migration_of_its_number_unchanged():
    for version in sorted(VERSIONS.glob("*.sql")):
        assert re.fullmatch(r"\d{4}\.sql", version.name), version
        (migration,) = MIGRATIONS.glob(f"{version.stem}_*.py")
        path, sha256 = importlib.import_module(f"attendance.migrations.{migration.stem}").SQL
        assert path == f"record_scan/{version.name}", f"{migration.name} does not execute {version.name}"
        frozen_sql(path, sha256)  # raises if the file changed since its migration was written
