"""The root of otpgate's error tree (:mod:`otpgate.core.errors` re-exports it)."""

from __future__ import annotations

import math
from typing import ClassVar


class OtpgateError(Exception):
    """Root of every error otpgate raises on purpose."""

    code: ClassVar[str] = "otpgate_error"
    http_status: ClassVar[int] = 400
    default_message: ClassVar[str] = "The second factor could not be verified."

    def __init__(self, message: str | None = None, *, retry_after: float | None = None) -> None:
        self.message = message or self.default_message
        self.retry_after: int | None = (
            None if retry_after is None else max(1, math.ceil(retry_after))
        )
        super().__init__(self.message)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code!r}, retry_after={self.retry_after!r})"
