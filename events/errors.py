"""The one base class for domain errors: a stable machine code, a message and details.

In events, the lowest app, because every app's services raise it; its HTTP translation is
events/api_errors.py, for the same reason.
"""


class DomainError(Exception):
    """Raised by services when a business rule refuses an action.

    `code` is stable (clients switch on it); `http_status` is the API's translation,
    applied in one place (events.api_errors.exception_handler).
    """

    code = "invalid"
    http_status = 400

    def __init__(self, message: str, *, code: str | None = None, details: dict | None = None, http_status: int | None = None):
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        if http_status is not None:
            self.http_status = http_status
        self.details = details or {}

    def as_body(self) -> dict:
        return {"error": {"code": self.code, "message": self.message, "details": self.details}}
