"""gatehouse_record_scan(): the single check-in as one statement on Postgres (attendance/sql/)."""

from pathlib import Path

from django.db import migrations

SQL_FILE = Path(__file__).resolve().parent.parent / "sql" / "record_scan.sql"


def create_function(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(SQL_FILE.read_text())


def drop_function(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP FUNCTION IF EXISTS gatehouse_record_scan")


class Migration(migrations.Migration):
    dependencies = [
        ("attendance", "0001_initial"),
        ("participants", "0002_import_job_audit_and_attempts"),
        ("gates", "0001_initial"),
        ("integrations", "0002_webhook_endpoints_and_deliveries"),
    ]

    operations = [migrations.RunPython(create_function, drop_function, elidable=False)]
