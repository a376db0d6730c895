"""New recovery codes as a text file: ``POST /recovery-codes`` with ``Accept: text/plain``.

The same file the Django and Flask pages offer to download (:mod:`otpgate.core.recovery_sheet`),
made in the answer that generated the codes: nothing keeps them in clear for later.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fastapi import Query, Request
from fastapi.responses import PlainTextResponse

from otpgate.core.recovery_sheet import recovery_sheet, wants_text

from .problems import request_locale

if TYPE_CHECKING:
    from .gate import OtpGate

__all__ = [
    "RECOVERY_ACCOUNT",
    "RECOVERY_TEXT_DOC",
    "RECOVERY_TEXT_RESPONSE",
    "recovery_text_response",
    "wants_text",
]

RECOVERY_ACCOUNT: Any = Query(
    None,
    max_length=128,
    description="The account the text file names (e.g. the user's email); default: the subject.",
)
RECOVERY_TEXT_DOC = (
    "JSON by default. With `Accept: text/plain` the answer is the codes as a text file to keep"
    " (`Content-Disposition: attachment`): the brand, the account (`account`, else the"
    " subject), the date, one code a line and how to use them, in the language of"
    " `Accept-Language`."
)
RECOVERY_TEXT_RESPONSE: dict[int | str, dict[str, Any]] = {
    201: {"content": {"text/plain": {"schema": {"type": "string"}}}},
}


def recovery_text_response(
    gate: OtpGate, codes: list[str], account: str, request: Request
) -> PlainTextResponse:
    """``codes`` as the downloadable text file (201, never cached: the router adds
    ``Cache-Control: no-store``)."""
    sheet = recovery_sheet(
        codes,
        brand=gate.settings.brand,
        account=account,
        created=gate.clock(),
        locale=request_locale(request),
    )
    return PlainTextResponse(
        sheet.text,
        status_code=201,
        headers={"Content-Disposition": f'attachment; filename="{sheet.file_name}"'},
    )
