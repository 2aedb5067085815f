"""The SQL a migration executes, read from its frozen file and checked against the hash the
migration recorded when it was written (attendance/sql/README.md).

An edited file would change no database already migrated and make this migration install on a
new one what it never did; so it stops the migration instead. Django's loader skips this module
(its name starts with "_"): it is no migration.
"""

import hashlib
from pathlib import Path

SQL_DIR = Path(__file__).resolve().parent.parent / "sql"


def frozen_sql(relative_path: str, sha256: str) -> str:
    path = SQL_DIR / relative_path
    text = path.read_text().replace("\r\n", "\n")
    found = hashlib.sha256(text.encode()).hexdigest()
    if found != sha256:
        raise RuntimeError(
            f"attendance/sql/{relative_path} is not the file its migration was written with (sha256 {found}, "
            f"recorded {sha256}). A change to a SQL function is a new file and a new migration: see attendance/sql/README.md."
        )
    return text
