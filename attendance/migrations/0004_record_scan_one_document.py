"""gatehouse_record_scan(p_call jsonb, p_refusals text): the check-in's 25 parameters become one document."""

from django.db import migrations

from attendance.migrations._frozen_sql import frozen_sql

# This migration's own version of the function and the one it replaces, frozen (attendance/sql/README.md).
SQL = ("record_scan/0004.sql", "8ba0dcd0dc3814e3a6bae87fea1318693a5e9380f476e21fe916a905e3506c25")
PREVIOUS_SQL = ("record_scan/0002.sql", "4caf7527e9b2174b5ed126a54b24cf69180f2a4d0706eb7b137b929f994e83d6")

# The first version's signature (0002): a function is identified by its argument types.
OLD_SIGNATURE = (
    "gatehouse_record_scan(bigint, bigint, bigint, bigint, timestamptz, timestamptz, interval, boolean, text[], jsonb, "
    "text, uuid, timestamptz, text, text, uuid, text, boolean, jsonb, jsonb, text, timestamptz, jsonb, jsonb, boolean)"
)


def replace_function(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP FUNCTION IF EXISTS {OLD_SIGNATURE}")
        schema_editor.execute(frozen_sql(*SQL))


def restore_function(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP FUNCTION IF EXISTS gatehouse_record_scan(jsonb, text)")
        schema_editor.execute(frozen_sql(*PREVIOUS_SQL))


class Migration(migrations.Migration):
    dependencies = [("attendance", "0003_drop_indexes_covered_by_composites")]

    operations = [migrations.RunPython(replace_function, restore_function, elidable=False)]
