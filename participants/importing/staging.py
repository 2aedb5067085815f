"""Uploads waiting between the import preview and its confirmation: kept in storage, not the database."""

import contextlib
import shutil
import tempfile
import uuid
from pathlib import Path

from django.core.files.storage import default_storage

from participants.importing.files import ImportFileRejected

STAGING_PREFIX = "imports/staging/"


def stage_upload(*, uploaded_file) -> str:
    """Keep an uploaded file in storage (not the database) until the organiser confirms or leaves."""
    suffix = Path(uploaded_file.name or "").suffix.lower()[:10]
    return default_storage.save(f"{STAGING_PREFIX}{uuid.uuid4().hex}{suffix}", uploaded_file)


@contextlib.contextmanager
def staged_file(name: str):
    if not name.startswith(STAGING_PREFIX) or ".." in name:
        raise ImportFileRejected("The uploaded file has expired; upload it again.", code="upload_expired")
    if not default_storage.exists(name):
        raise ImportFileRejected("The uploaded file has expired; upload it again.", code="upload_expired")
    try:
        yield Path(default_storage.path(name))
        return
    except NotImplementedError:
        pass
    with default_storage.open(name, "rb") as source, tempfile.NamedTemporaryFile(suffix=Path(name).suffix) as copy:
        shutil.copyfileobj(source, copy)
        copy.flush()
        yield Path(copy.name)


def discard_staged(name: str) -> None:
    if name.startswith(STAGING_PREFIX):
        default_storage.delete(name)
