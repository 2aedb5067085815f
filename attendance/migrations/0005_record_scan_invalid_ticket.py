"""gatehouse_record_scan(): refuse a QR ticket whose signature did not verify with invalid_ticket."""

from pathlib import Path

from django.db import migrations

SQL_FILE = Path(__file__).resolve().parent.parent / "sql" / "record_scan.sql"


def replace_function(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        # Same signature as 0004: CREATE OR REPLACE swaps the body in place.
        schema_editor.execute(SQL_FILE.read_text())


class Migration(migrations.Migration):
    dependencies = [("attendance", "0004_record_scan_one_document")]

    # Not reversible to 0004's body: the SQL lives in one file, this migration's version of it.
    operations = [migrations.RunPython(replace_function, migrations.RunPython.noop, elidable=False)]
