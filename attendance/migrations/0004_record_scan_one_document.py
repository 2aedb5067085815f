"""gatehouse_record_scan(p_call jsonb, p_refusals text): the check-in's 25 parameters become one document."""

from pathlib import Path

from django.db import migrations

SQL_FILE = Path(__file__).resolve().parent.parent / "sql" / "record_scan.sql"

# The first version's signature (0002): a function is identified by its argument types.
OLD_SIGNATURE = (
    "gatehouse_record_scan(bigint, bigint, bigint, bigint, timestamptz, timestamptz, interval, boolean, text[], jsonb, "
    "text, uuid, timestamptz, text, text, uuid, text, boolean, jsonb, jsonb, text, timestamptz, jsonb, jsonb, boolean)"
)


def replace_function(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP FUNCTION IF EXISTS {OLD_SIGNATURE}")
        schema_editor.execute(SQL_FILE.read_text())


class Migration(migrations.Migration):
    dependencies = [("attendance", "0003_drop_indexes_covered_by_composites")]

    # Not reversible to the 25-parameter version: its SQL is no longer in the tree.
    operations = [migrations.RunPython(replace_function, migrations.RunPython.noop, elidable=False)]
