"""Builders for participant files as organisers produce them (and as attackers craft them)."""

import csv
import io
import zipfile
from pathlib import Path

import openpyxl


def write_csv(path: Path, rows: list[list], *, encoding: str = "utf-8", delimiter: str = ",") -> Path:
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    path.write_bytes(buffer.getvalue().encode(encoding))
    return path


def write_xlsx(path: Path, rows: list[list]) -> Path:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    workbook.save(path)
    return path


def write_zip_bomb(path: Path, *, inflated_bytes: int = 300 * 1024 * 1024) -> Path:
    """A valid-looking workbook whose sheet inflates ~1000-fold."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types/>')
        archive.writestr("xl/workbook.xml", '<?xml version="1.0"?><workbook/>')
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as member:
            block = b" " * (1024 * 1024)
            for _ in range(inflated_bytes // len(block)):
                member.write(block)
    return path


def write_xlsx_with_entities(path: Path, source: Path, *, padding: int = 0) -> Path:
    """A real workbook whose sheet declares a billion-laughs entity (after `padding` bytes of comment)."""
    laughs = (
        '<?xml version="1.0"?>\n' + (f"<!--{'x' * padding}-->" if padding else "") + '<!DOCTYPE lolz [<!ENTITY lol "lol">'
        '<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
        '<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>\n'
    )
    with zipfile.ZipFile(source) as original, zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for item in original.infolist():
            data = original.read(item)
            if item.filename == "xl/worksheets/sheet1.xml":
                body = data.decode()
                body = body.split("?>", 1)[1] if body.startswith("<?xml") else body
                data = (laughs + body.replace("<v>", "<v>&lol3;", 1)).encode()
            archive.writestr(item, data)
    return path
