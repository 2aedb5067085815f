"""One validator per participant field, shared by the import, the API and the admin.

Each `clean_*` takes what a person typed (or a spreadsheet cell) and returns the stored form,
or raises `FieldInvalid` with a stable `code`. `clean_participant` applies them all to one row
and returns every error at once, each naming its column, so a file or a request body can be
fixed in one go.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from dataclasses import dataclass, field

import phonenumbers
from email_validator import EmailNotValidError, validate_email

NAME_MIN_LENGTH = 2
NAME_MAX_LENGTH = 100
MINIMUM_AGE_YEARS = 13
TEXT_LIMITS = {"organization": 200, "department": 200, "position": 200, "region": 100, "external_id": 100}
PARTICIPANT_FIELDS = ("name", "email", "phone", "organization", "department", "position", "birth_date", "region", "external_id")

# Day-first and month-first formats are ambiguous for days <= 12; Korean and ISO sources write
# year first, so only year-first and the unambiguous dotted/compact forms are accepted.
BIRTH_DATE_FORMATS = ("%Y-%m-%d", "%Y.%m.%d", "%Y/%m/%d", "%Y%m%d", "%Y. %m. %d", "%Y.%m.%d.", "%Y. %m. %d.", "%Y년 %m월 %d일")


_ISO_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")


class FieldInvalid(ValueError):
    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class FieldError:
    """One problem with one value: `column` is the participant field it belongs to."""

    column: str
    code: str
    message: str
    value: str = ""
    row: int | None = None

    def as_dict(self) -> dict:
        return {"row": self.row, "column": self.column, "code": self.code, "message": self.message, "value": self.value}


@dataclass(frozen=True)
class ValidationContext:
    """What validation needs to know about the event: phone region and the age reference date."""

    phone_region: str = "KR"
    reference_date: dt.date | None = None

    @classmethod
    def for_event(cls, event) -> ValidationContext:
        return cls(
            phone_region=(event.phone_region or "KR").upper(),
            reference_date=event.starts_at.astimezone(event.tzinfo).date(),
        )


@dataclass
class CleanedParticipant:
    values: dict = field(default_factory=dict)
    errors: list[FieldError] = field(default_factory=list)

    @property
    def is_valid(self) -> bool:
        return not self.errors


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return " ".join(str(value).split()) if not isinstance(value, str) else value.strip()


def clean_name(value) -> str:
    name = " ".join(_text(value).split())
    if not name:
        raise FieldInvalid("name_required", "Name is required.")
    if len(name) < NAME_MIN_LENGTH:
        raise FieldInvalid("name_too_short", f"Name must be at least {NAME_MIN_LENGTH} characters.")
    if len(name) > NAME_MAX_LENGTH:
        raise FieldInvalid("name_too_long", f"Name must be at most {NAME_MAX_LENGTH} characters.")
    return name


# The common case, a plain ASCII address: its local part is an RFC 5322 dot-atom, which
# email-validator returns unchanged, so only the domain needs the library's (slow, IDNA) checks,
# and a file has few distinct domains. Anything else takes the full path. tests/participants/
# test_validation.py checks both paths agree.
_ATEXT = r"a-zA-Z0-9_!#$%&'*+\-/=?^`{|}~"
_PLAIN_ADDRESS = re.compile(rf"([{_ATEXT}]+(?:\.[{_ATEXT}]+)*)@([a-zA-Z0-9.\-]+)\Z")
_MAX_ADDRESS_LENGTH = 254


@functools.lru_cache(maxsize=4096)
def _validated_domain(domain: str) -> str | None:
    try:
        return validate_email(f"a@{domain}", check_deliverability=False).ascii_domain
    except EmailNotValidError:
        return None


def clean_email(value) -> str:
    email = _text(value)
    if not email:
        raise FieldInvalid("email_required", "Email is required.")
    plain = _PLAIN_ADDRESS.match(email)
    if plain:
        domain = _validated_domain(plain[2])
        if domain is not None and len(plain[1]) + 1 + len(domain) <= _MAX_ADDRESS_LENGTH:
            return f"{plain[1]}@{domain}".lower()
    try:
        # Deliverability (DNS) is not checked: imports run offline and in bulk.
        normalized = validate_email(email, check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise FieldInvalid("invalid_email", f"Not a valid email address: {exc}") from exc
    return normalized.lower()


PHONE_SHOWN_MAX_LENGTH = 40


def _unreadable_phone(raw: str) -> FieldInvalid:
    # One plain sentence for organisers, whatever the library's reason: its wording ("The
    # string supplied did not seem to be a phone number") reads as a program talking. The value
    # is quoted so a row in a long error list can be found; a huge cell is shortened.
    shown = raw if len(raw) <= PHONE_SHOWN_MAX_LENGTH else raw[: PHONE_SHOWN_MAX_LENGTH - 1] + "…"
    return FieldInvalid(
        "invalid_phone",
        f"Not a phone number we can read: '{shown}'. A number from another country starts with + and its country code.",
    )


def clean_phone(value, *, region: str = "KR") -> str:
    raw = _text(value)
    if not raw:
        return ""
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException as exc:
        raise _unreadable_phone(raw) from exc
    if not phonenumbers.is_valid_number(number):
        raise _unreadable_phone(raw)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _years_between(born: dt.date, on: dt.date) -> int:
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def clean_birth_date(value, *, reference_date: dt.date | None = None) -> dt.date | None:
    if isinstance(value, dt.datetime):
        born = value.date()
    elif isinstance(value, dt.date):
        born = value
    else:
        raw = _text(value)
        if not raw:
            return None
        born = None
        iso = _ISO_DATE.match(raw)
        if iso:
            try:
                born = dt.date(int(iso[1]), int(iso[2]), int(iso[3]))
            except ValueError:
                born = None
        for fmt in () if born else BIRTH_DATE_FORMATS:
            try:
                born = dt.datetime.strptime(raw, fmt).date()
                break
            except ValueError:
                continue
        if born is None:
            raise FieldInvalid(
                "invalid_birth_date", "Not a date; use YYYY-MM-DD (also accepted: YYYY.MM.DD, YYYY/MM/DD, YYYYMMDD)."
            )
    reference = reference_date or dt.date.today()
    if born > reference:
        raise FieldInvalid("invalid_birth_date", "Birth date is in the future.")
    if born.year < 1900:
        raise FieldInvalid("invalid_birth_date", "Birth date is before 1900.")
    if _years_between(born, reference) < MINIMUM_AGE_YEARS:
        raise FieldInvalid("too_young", f"Participants must be at least {MINIMUM_AGE_YEARS} years old at the event's start.")
    return born


def clean_text(value, *, max_length: int) -> str:
    text = _text(value)
    if len(text) > max_length:
        raise FieldInvalid("value_too_long", f"At most {max_length} characters.")
    return text


def _shown(value) -> str:
    return (value.isoformat() if isinstance(value, dt.date) else _text(value))[:500]


# (field, cleaner(value, context)) in column order; plain functions, not per-row lambdas: this
# runs for every row of a 500,000-row file.
_CLEANERS = (
    ("name", lambda value, context: clean_name(value)),
    ("email", lambda value, context: clean_email(value)),
    ("phone", lambda value, context: clean_phone(value, region=context.phone_region)),
    ("birth_date", lambda value, context: clean_birth_date(value, reference_date=context.reference_date)),
    *((name, lambda value, context, limit=limit: clean_text(value, max_length=limit)) for name, limit in TEXT_LIMITS.items()),
)


def clean_participant(raw: dict, *, context: ValidationContext) -> CleanedParticipant:
    """Clean every known field of one row; missing optional fields become empty values."""
    result = CleanedParticipant()
    values, errors = result.values, result.errors
    for name, cleaner in _CLEANERS:
        value = raw.get(name)
        if (value is None or value == "") and name in _OPTIONAL_EMPTY:
            values[name] = _OPTIONAL_EMPTY[name]
            continue
        try:
            values[name] = cleaner(value, context)
        except FieldInvalid as exc:
            errors.append(FieldError(column=name, code=exc.code, message=exc.message, value=_shown(value)))
    return result


# What an absent optional value cleans to, without calling its cleaner.
_OPTIONAL_EMPTY = {"phone": "", "birth_date": None, **dict.fromkeys(TEXT_LIMITS, "")}
