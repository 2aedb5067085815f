"""Logging filter that keeps participants' personal data out of every log line.

Attached to the handlers in settings.LOGGING, so it sees every record that is written —
Django's, Celery's, libraries' and ours — after %-formatting, including exception tracebacks
(an IntegrityError names the duplicate email) and `extra` fields (the JSON formatter prints
them). Emails, phone numbers and ticket tokens are replaced by a fixed mask.
"""

import logging
import re

from participants.tokens import ALPHABET, GROUP, MAX_PREFIX_LENGTH, TOKEN_LENGTH

EMAIL_MASK = "[email]"
PHONE_MASK = "[phone]"
TOKEN_MASK = "[token]"  # noqa: S105 - a mask, not a secret

_EMAIL = re.compile(r"[A-Za-z0-9._%+'-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
# E.164 (+821012345678, also written with spaces or dashes) and Korean mobile numbers written
# locally (010-1234-5678, 01012345678). Deliberately narrower than "any digit run", so ids,
# timestamps and counters stay readable.
_PHONE = re.compile(r"(?<![\w+])\+[1-9](?:[ -]?\d){6,14}(?!\d)|(?<!\d)01[016789][ -]?\d{3,4}[ -]?\d{4}(?!\d)")
# Tokens as stored (30 symbols) or as printed (optional event prefix, then groups of five,
# dashed or spaced); case-insensitive because people type them in lower case.
_SYMBOL = f"[{ALPHABET}]"
_GROUPS = rf"{_SYMBOL}{{{GROUP}}}(?:[- ]?{_SYMBOL}{{{GROUP}}}){{{TOKEN_LENGTH // GROUP - 1}}}"
_TOKEN = re.compile(rf"(?<![A-Za-z0-9])(?:[A-Z0-9]{{1,{MAX_PREFIX_LENGTH}}}-)?{_GROUPS}(?![A-Za-z0-9])", re.IGNORECASE)


def scrub(text: str) -> str:
    """`text` with every email, phone number and ticket token masked."""
    text = _EMAIL.sub(EMAIL_MASK, text)
    text = _TOKEN.sub(TOKEN_MASK, text)
    return _PHONE.sub(PHONE_MASK, text)


# Attributes every LogRecord has; anything else on a record came from `extra=` and is printed
# by the JSON formatter, so it is scrubbed as well.
_STANDARD_ATTRIBUTES = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "request_id"}


class ScrubPersonalData(logging.Filter):
    _formatter = logging.Formatter()

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string is logging's problem to report, not ours to hide
            return True
        record.msg, record.args = scrub(message), None
        if record.exc_info:
            # Formatters print exc_text when exc_info is gone; both the plain and the JSON one do.
            record.exc_text = scrub(self._formatter.formatException(record.exc_info))
            record.exc_info = None
        elif record.exc_text:
            record.exc_text = scrub(record.exc_text)
        if record.stack_info:
            record.stack_info = scrub(record.stack_info)
        for name, value in list(record.__dict__.items()):
            if name not in _STANDARD_ATTRIBUTES:
                setattr(record, name, _scrub_value(value))
        return True


def _scrub_value(value):
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, dict):
        return {key: _scrub_value(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_scrub_value(item) for item in value)
    return value
