"""gatehouse_record_scan(): refuse a QR ticket whose signature did not verify with invalid_ticket."""

from django.db import migrations

from attendance.migrations._frozen_sql import frozen_sql

# This migration's own version of the function and the one it replaces, frozen (attendance/sql/README.md).
SQL = ("record_scan/0005.sql", "55f11da7cd06d13e04ab0f434955c579186c70d3d1fbf2b28117a2be91af7848")
PREVIOUS_SQL = ("record_scan/0004.sql", "8ba0dcd0dc3814e3a6bae87fea1318693a5e9380f476e21fe916a905e3506c25")


def replace_function(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        # Same signature as 0004: CREATE OR REPLACE swaps the body in place.
        schema_editor.execute(frozen_sql(*SQL))


def restore_function(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(frozen_sql(*PREVIOUS_SQL))


class Migration(migrations.Migration):
    dependencies = [("attendance", "0004_record_scan_one_document")]

    operations = [migrations.RunPython(replace_function, restore_function, elidable=False)]
