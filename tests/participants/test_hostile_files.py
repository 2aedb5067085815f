"""Every hostile or broken file is refused with a clear error and leaves the database unchanged."""

import os

import pytest

from integrations.outbox import OutboxEvent
from participants.importing.files import ImportFileRejected
from participants.importing.pipeline import start_import
from participants.models import ImportJob, ImportRowError, Participant
from tests.factories import EventFactory, ParticipantFactory
from tests.participants.files import write_csv, write_xlsx, write_xlsx_with_entities, write_zip_bomb

pytestmark = pytest.mark.django_db


def database_state():
    return (
        Participant.objects.count(),
        ImportJob.objects.count(),
        ImportRowError.objects.count(),
        OutboxEvent.objects.count(),
        list(Participant.objects.order_by("pk").values_list("name", "email", "updated_at")),
    )


def assert_rejected(path, code, message_part, filename=None):
    event = EventFactory()
    ParticipantFactory(event=event)
    before = database_state()
    with pytest.raises(ImportFileRejected) as caught:
        start_import(event=event, path=path, filename=filename or path.name, enqueue=False)
    assert caught.value.code == code
    assert message_part in caught.value.message
    assert database_state() == before


def test_empty_file(tmp_path):
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    assert_rejected(path, "empty_file", "empty")


def test_header_only(tmp_path):
    assert_rejected(write_csv(tmp_path / "header.csv", [["name", "email"]]), "no_rows", "no participant rows")


def test_missing_required_column_names_what_was_found(tmp_path):
    assert_rejected(write_csv(tmp_path / "cols.csv", [["name", "mail address"], ["Kim", "a@b.c"]]), "missing_columns", "email")


def test_xlsx_renamed_to_csv(tmp_path):
    real = write_xlsx(tmp_path / "real.xlsx", [["name", "email"], ["Kim A", "a@example.com"]])
    disguised = tmp_path / "people.csv"
    disguised.write_bytes(real.read_bytes())
    assert_rejected(disguised, "file_type_mismatch", "zip/Excel")


def test_csv_renamed_to_xlsx(tmp_path):
    real = write_csv(tmp_path / "real.csv", [["name", "email"], ["Kim A", "a@example.com"]])
    disguised = tmp_path / "people.xlsx"
    disguised.write_bytes(real.read_bytes())
    assert_rejected(disguised, "file_type_mismatch", "not an Excel workbook")


def test_pdf_renamed_to_csv(tmp_path):
    path = tmp_path / "people.csv"
    path.write_bytes(b"%PDF-1.7\n" + os.urandom(2000))
    assert_rejected(path, "file_type_mismatch", "not text")


def test_binary_junk(tmp_path):
    path = tmp_path / "junk.csv"
    path.write_bytes(b"name,email\n" + os.urandom(4096))
    assert_rejected(path, "invalid_encoding", "encoding")


def test_unsupported_extension(tmp_path):
    path = write_csv(tmp_path / "people.numbers", [["name", "email"], ["Kim A", "a@example.com"]])
    assert_rejected(path, "unsupported_file_type", ".csv or .xlsx")


def test_invalid_encoding_is_refused_not_garbled(tmp_path):
    # Latin-1 bytes that are neither valid UTF-8 nor valid CP949 sequences.
    path = tmp_path / "latin.csv"
    path.write_bytes("name,email\nJos\xe9 \xff\xfe,jose@example.com\n".encode("latin-1"))
    assert_rejected(path, "invalid_encoding", "UTF-8 or CP949")


def test_xlsx_zip_bomb(tmp_path):
    assert_rejected(write_zip_bomb(tmp_path / "bomb.xlsx"), "zip_bomb", "zip bomb")


def test_xlsx_xml_entity_expansion(tmp_path):
    real = write_xlsx(tmp_path / "real.xlsx", [["name", "email"], ["Kim A", "a@example.com"]])
    assert_rejected(write_xlsx_with_entities(tmp_path / "lol.xlsx", real), "unsafe_xml", "entities")


def test_xlsx_entity_declaration_hidden_past_the_prolog_scan_is_stopped_by_defusedxml(tmp_path):
    real = write_xlsx(tmp_path / "real.xlsx", [["name", "email"], ["Kim A", "a@example.com"]])
    hidden = write_xlsx_with_entities(tmp_path / "lol.xlsx", real, padding=10_000)
    assert_rejected(hidden, "unsafe_xml", "unsafe XML")


def test_oversize_file(tmp_path, settings):
    settings.IMPORT_MAX_FILE_BYTES = 1024
    rows = [["name", "email"]] + [[f"Person {i}", f"p{i}@example.com"] for i in range(100)]
    assert_rejected(write_csv(tmp_path / "big.csv", rows), "file_too_large", "limit is")


def test_too_many_rows(tmp_path, settings):
    settings.IMPORT_MAX_ROWS = 5
    rows = [["name", "email"]] + [[f"Person {i}", f"p{i}@example.com"] for i in range(6)]
    assert_rejected(write_csv(tmp_path / "many.csv", rows), "too_many_rows", "more than 5 rows")
