"""Reading participant files (CSV and XLSX) safely and as a stream.

`open_participant_file` checks everything that can be checked before any work — size, type by
content (not by name), encoding, XLSX zip-bomb and XML-entity tricks, header, row count — and
raises `ImportFileRejected` with a stable code and a message an organiser can act on. The
returned `ParticipantFile` then streams rows one at a time, so memory stays flat for any size.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings

from events.errors import DomainError

# What the issue asks for, plus what Korean registration exports commonly use.
HEADER_ALIASES = {
    "name": ["name", "fullname", "participantname", "이름", "성명", "성함", "참가자명"],
    "email": ["email", "e-mail", "emailaddress", "mail", "이메일", "이메일주소", "전자우편"],
    "phone": ["phone", "phonenumber", "mobile", "tel", "telephone", "전화번호", "휴대폰", "휴대전화", "연락처", "핸드폰"],
    "organization": ["organization", "organisation", "company", "affiliation", "소속", "회사", "기관", "소속기관"],
    "department": ["department", "dept", "부서"],
    "position": ["position", "title", "jobtitle", "직급", "직책", "직위"],
    "birth_date": ["birthdate", "birth_date", "dateofbirth", "dob", "birthday", "생년월일", "생일"],
    "region": ["region", "area", "city", "지역", "거주지역"],
    "external_id": ["externalid", "external_id", "id", "registrationid", "외부id", "등록번호"],
}
REQUIRED_COLUMNS = ("name", "email")
_HEADER_NOISE = re.compile(r"[\s_\-.()]+")


def _header_key(text: str) -> str:
    return _HEADER_NOISE.sub("", text).casefold()


_ALIAS_TO_FIELD = {_header_key(alias): name for name, aliases in HEADER_ALIASES.items() for alias in aliases}

ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # legacy .xls
BINARY_MAGICS = (b"%PDF", b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"\x1f\x8b", b"7z\xbc\xaf", b"Rar!", b"\x7fELF", b"MZ")
CSV_EXTENSIONS = {".csv", ".txt", ".tsv"}
XLSX_EXTENSIONS = {".xlsx"}
SNIFF_BYTES = 64 * 1024


class ImportFileRejected(DomainError):
    """The whole file is refused before anything is written; `code` says why."""

    code = "file_rejected"
    http_status = 400


@dataclass
class ParticipantFile:
    path: Path
    kind: str  # "csv" or "xlsx"
    headers: list[str]
    columns: dict[int, str]  # column index -> participant field
    extra_columns: dict[int, str]  # column index -> original header, kept in metadata
    total_rows: int = 0
    encoding: str = ""
    delimiter: str = ""
    _xlsx_sheet: str = field(default="", repr=False)

    def rows(self) -> Iterator[tuple[int, dict, dict]]:
        """Yield (row number as the spreadsheet shows it, field values, metadata) for non-empty rows."""
        cells = self._cells()
        next(cells, None)  # the header
        for number, values in enumerate(cells, start=2):
            if not any(v not in (None, "") and (not isinstance(v, str) or v.strip()) for v in values):
                continue
            width = len(values)
            raw = {name: values[index] if index < width else None for index, name in self.columns.items()}
            metadata = {}
            for index, header in self.extra_columns.items():
                if index < width and values[index] not in (None, ""):
                    value = values[index]
                    metadata[header] = value.isoformat() if isinstance(value, dt.date | dt.datetime) else str(value)
            yield number, raw, metadata

    def _cells(self) -> Iterator[list]:
        if self.kind == "csv":
            with open(self.path, encoding=self.encoding, newline="", errors="strict") as handle:
                yield from csv.reader(handle, delimiter=self.delimiter)
        else:
            yield from _xlsx_cells(self.path)


def open_participant_file(path: str | Path, *, filename: str, count_rows: bool = True) -> ParticipantFile:
    """Check a file completely and return a streaming reader; ImportFileRejected if it cannot be imported.

    `count_rows=False` skips the row-count pass (and its limits) for a file already checked.
    """
    path = Path(path)
    size = path.stat().st_size
    limit = settings.IMPORT_MAX_FILE_BYTES
    if size > limit:
        raise ImportFileRejected(
            f"The file is {size / 1024 / 1024:.1f} MB; the limit is {limit / 1024 / 1024:.0f} MB.",
            code="file_too_large",
            details={"size": size, "limit": limit},
        )
    if size == 0:
        raise ImportFileRejected("The file is empty.", code="empty_file")
    with open(path, "rb") as handle:
        head = handle.read(SNIFF_BYTES)
    extension = Path(filename).suffix.lower()
    kind = _kind_from_content(head, extension)
    parsed = _open_xlsx(path) if kind == "xlsx" else _open_csv(path, head)
    if count_rows:
        _check_rows(parsed)
    return parsed


def _kind_from_content(head: bytes, extension: str) -> str:
    if extension not in CSV_EXTENSIONS | XLSX_EXTENSIONS:
        raise ImportFileRejected(
            f"Unsupported file type {extension or '(none)'}: upload a .csv or .xlsx file.", code="unsupported_file_type"
        )
    looks_zip = head.startswith(ZIP_MAGIC)
    if extension in XLSX_EXTENSIONS:
        if not looks_zip:
            raise ImportFileRejected("The file is named .xlsx but is not an Excel workbook.", code="file_type_mismatch")
        return "xlsx"
    if looks_zip:
        raise ImportFileRejected(
            "The file is named .csv but is a zip/Excel file: save it as CSV or upload it as .xlsx.", code="file_type_mismatch"
        )
    if head.startswith(OLE_MAGIC):
        raise ImportFileRejected(
            "This is an old Excel (.xls) file: save it as .xlsx or CSV and upload again.", code="file_type_mismatch"
        )
    if head.startswith(BINARY_MAGICS):
        raise ImportFileRejected("The file is named .csv but its content is not text.", code="file_type_mismatch")
    return "csv"


# --- CSV --------------------------------------------------------------------------------


def _detect_encoding(path: Path, head: bytes) -> str:
    """BOM first, then strict UTF-8, then strict CP949; never a lossy fallback that garbles names."""
    if head.startswith(codecs.BOM_UTF8):
        candidates = ["utf-8-sig"]
    elif head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        candidates = ["utf-16"]  # Excel's "Unicode text" export
    else:
        candidates = ["utf-8", "cp949"]
    for encoding in candidates:
        if _decodes_strictly(path, encoding):
            return encoding
    raise ImportFileRejected(
        "The file's text encoding is not UTF-8 or CP949/EUC-KR (or it contains binary data): "
        "save it as 'CSV UTF-8' and upload again.",
        code="invalid_encoding",
    )


def _decodes_strictly(path: Path, encoding: str) -> bool:
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    try:
        with open(path, "rb") as handle:
            while block := handle.read(1024 * 1024):
                text = decoder.decode(block)
                if "\x00" in text:
                    return False  # NUL never appears in a text export: this is binary
            decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _open_csv(path: Path, head: bytes) -> ParticipantFile:
    encoding = _detect_encoding(path, head)
    with open(path, encoding=encoding, newline="") as handle:
        sample = handle.read(SNIFF_BYTES)
    first_line = sample.splitlines()[0] if sample.strip() else ""
    if not first_line.strip():
        raise ImportFileRejected("The file has no header row.", code="empty_file")
    delimiter = _sniff_delimiter(first_line)
    headers = next(csv.reader([first_line], delimiter=delimiter))
    parsed = ParticipantFile(
        path=path, kind="csv", headers=[], columns={}, extra_columns={}, encoding=encoding, delimiter=delimiter
    )
    _map_headers(parsed, headers)
    return parsed


def _sniff_delimiter(header_line: str) -> str:
    # The header decides: the delimiter under which most cells are columns we know wins,
    # then the one that splits the line into most cells. csv.Sniffer guesses wrong on short
    # Korean headers; our header vocabulary is a much better signal.
    def score(delimiter: str) -> tuple[int, int]:
        cells = next(csv.reader([header_line], delimiter=delimiter))
        return sum(_header_key(c) in _ALIAS_TO_FIELD for c in cells), len(cells)

    return max([",", ";", "\t"], key=score)


# --- XLSX -------------------------------------------------------------------------------


def _open_xlsx(path: Path) -> ParticipantFile:
    _check_zip(path)
    cells = _xlsx_cells(path)
    headers = next(cells, None)
    cells.close()
    if headers is None:
        raise ImportFileRejected("The workbook's first sheet is empty.", code="empty_file")
    parsed = ParticipantFile(path=path, kind="xlsx", headers=[], columns={}, extra_columns={})
    _map_headers(parsed, ["" if h is None else str(h) for h in headers])
    return parsed


def _check_zip(path: Path) -> None:
    """Refuse zip bombs and XML entity tricks by looking at the archive before any parser does."""
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise ImportFileRejected("The file is named .xlsx but is not a valid Excel workbook.", code="file_type_mismatch") from exc
    with archive:
        members = archive.infolist()
        names = {m.filename for m in members}
        if "[Content_Types].xml" not in names or "xl/workbook.xml" not in names:
            raise ImportFileRejected("The file is a zip archive but not an Excel workbook.", code="file_type_mismatch")
        total = sum(m.file_size for m in members)
        if total > settings.IMPORT_MAX_UNCOMPRESSED_BYTES:
            raise ImportFileRejected(
                f"The workbook would expand to {total / 1024 / 1024:.0f} MB; refused as a possible zip bomb.",
                code="zip_bomb",
            )
        for member in members:
            ratio = member.file_size / max(member.compress_size, 1)
            if member.file_size > 1024 * 1024 and ratio > settings.IMPORT_MAX_COMPRESSION_RATIO:
                raise ImportFileRejected(
                    f"{member.filename} expands {ratio:.0f}-fold; refused as a possible zip bomb.", code="zip_bomb"
                )
            if member.filename.endswith((".xml", ".rels")):
                with archive.open(member) as handle:
                    prolog = handle.read(4096)
                if b"<!DOCTYPE" in prolog.upper() or b"<!ENTITY" in prolog.upper():
                    raise ImportFileRejected(
                        f"{member.filename} declares a DTD or XML entities, which a workbook never needs; refused.",
                        code="unsafe_xml",
                    )


def _xlsx_cells(path: Path) -> Iterator[list]:
    import openpyxl  # with defusedxml installed, openpyxl parses through it
    from defusedxml import DefusedXmlException

    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a corrupt workbook
        cause = exc
        while cause is not None and not isinstance(cause, DefusedXmlException):
            cause = cause.__cause__ or cause.__context__
        if cause is not None:
            raise ImportFileRejected("The workbook contains unsafe XML (entities or a DTD).", code="unsafe_xml") from exc
        raise ImportFileRejected(f"The workbook cannot be read: {exc}", code="corrupt_file") from exc
    try:
        sheet = workbook.worksheets[0]
        for row in sheet.iter_rows(values_only=True):
            yield list(row)
    except DefusedXmlException as exc:
        raise ImportFileRejected("The workbook contains unsafe XML (entities or a DTD).", code="unsafe_xml") from exc
    finally:
        workbook.close()


# --- shared -----------------------------------------------------------------------------


def _map_headers(parsed: ParticipantFile, headers: list[str]) -> None:
    parsed.headers = [h.strip() for h in headers]
    for index, header in enumerate(parsed.headers):
        if not header:
            continue
        name = _ALIAS_TO_FIELD.get(_header_key(header))
        if name and name not in parsed.columns.values():
            parsed.columns[index] = name
        else:
            parsed.extra_columns[index] = header
    missing = [name for name in REQUIRED_COLUMNS if name not in parsed.columns.values()]
    if missing:
        raise ImportFileRejected(
            f"Missing required column(s): {', '.join(missing)}. Found: {', '.join(h for h in parsed.headers if h) or 'nothing'}.",
            code="missing_columns",
            details={"missing": missing, "found": parsed.headers},
        )


def _check_rows(parsed: ParticipantFile) -> None:
    limit = settings.IMPORT_MAX_ROWS
    count = 0
    try:
        for _ in parsed.rows():
            count += 1
            if count > limit:
                raise ImportFileRejected(f"The file has more than {limit:,} rows; split it.", code="too_many_rows")
    except csv.Error as exc:
        raise ImportFileRejected(f"The CSV cannot be parsed: {exc}", code="corrupt_file") from exc
    if count == 0:
        raise ImportFileRejected("The file has a header but no participant rows.", code="no_rows")
    parsed.total_rows = count
