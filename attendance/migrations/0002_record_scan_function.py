"""gatehouse_record_scan(): the single check-in as one statement on Postgres (attendance/sql/)."""

from django.db import migrations

from attendance.migrations._frozen_sql import frozen_sql

# This migration's own version of the function, frozen (attendance/sql/README.md).
SQL = ("record_scan/0002.sql", "4caf7527e9b2174b5ed126a54b24cf69180f2a4d0706eb7b137b929f994e83d6")


def create_function(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(frozen_sql(*SQL))


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
