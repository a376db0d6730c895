"""The SMS text: a short translated template, then the WebOTP line when a domain is set."""

from __future__ import annotations

from .settings import Settings

_TEMPLATES = {
    "en": (
        "{brand}: your verification code is {code}. It expires in {minutes} min. Never share it.",
        "{brand}: code {code} confirms {summary}. It expires in {minutes} min. "
        "If this was not you, do not share it.",
    ),
    "zh": (
        "【{brand}】您的验证码是{code}，{minutes}分钟内有效。请勿告诉他人。",
        "【{brand}】验证码{code}用于确认{summary}，{minutes}分钟内有效。如非本人操作，请勿告诉他人。",
    ),
}


def language_of(locale: str | None, default: str) -> str:
    """``zh-Hans-CN`` → ``zh``; unknown languages fall back to ``default``, then English."""
    for candidate in (locale, default):
        language = (candidate or "").replace("_", "-").split("-")[0].lower()
        if language in _TEMPLATES:
            return language
    return "en"


def render_sms(
    settings: Settings, code: str, *, locale: str | None = None, summary: str = ""
) -> str:
    """The text to send. ``summary`` is a short description of a bound transaction."""
    plain, with_summary = _TEMPLATES[language_of(locale, settings.default_locale)]
    template = with_summary if summary else plain
    text = template.format(
        brand=settings.brand,
        code=code,
        minutes=max(1, settings.code_lifetime // 60),
        summary=summary,
    )
    if settings.webotp_domain:
        text += f"\n\n@{settings.webotp_domain} #{code}"
    return text
