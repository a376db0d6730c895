"""Translations of user-visible text: error messages by ``.code``, and strings integrations
register for their pages. English is the source text; Simplified Chinese ships with otpgate.

Integrations with their own i18n machinery (Django's gettext) may use it instead; this
catalog is what every integration can rely on without extra dependencies.
"""

from __future__ import annotations

from collections.abc import Mapping

from .errors import LockedOut, OtpgateError

_CATALOG: dict[str, dict[str, str]] = {"zh": {}}

_ERRORS_ZH = {
    "otpgate_error": "无法完成第二步验证。",
    "configuration_error": "otpgate 配置有误。",
    "malformed_input": "请求格式不正确。",
    "factor_not_enrolled": "此账户尚未设置这种验证方式。",
    "factor_setup_required": "此账户没有可用于此操作的第二步验证方式，请先添加一种。",
    "sms_temporarily_unavailable": (
        "发送到此账户手机的验证码（短信或语音电话）暂时停用。请改用其他验证方式，或联系客服。"
    ),
    "factor_already_enrolled": "此账户已设置身份验证器应用。",
    "unknown_factor": "此第二步验证方式不可用。",
    "factor_not_allowed": "此第二步验证方式不能用于此操作，请选择其他方式。",
    "phone_rejected": "该手机号码无法接收验证码。",
    "phone_invalid": "手机号码无效。请连同国家/地区代码一起输入。",
    "phone_region_not_allowed": "无法向该国家/地区的手机号码发送验证码。",
    "phone_type_not_allowed": "验证码只能发送到手机号码。",
    "phone_network_not_allowed": "无法向卫星电话或其他非地理号码发送验证码。",
    "verification_failed": "无法完成第二步验证。",
    "invalid_code": "验证码不正确。",
    "passkey_rejected": "无法验证该通行密钥。",
    "sign_count_regression": "无法验证该通行密钥。",
    "expired": "验证码已过期，请重新获取。",
    "max_attempts_reached": "错误次数过多，请重新获取验证码。",
    "context_mismatch": "该验证码是为另一笔交易签发的。",
    "replayed": "该验证码已被使用，请等待下一个验证码。",
    "transaction_executed": "该交易已执行。",
    "transaction_in_progress": "该交易正在执行中。",
    "rate_limited": "请求过于频繁，请稍后再试。",
    "resend_cooldown": "请稍候再重新获取验证码。",
    "send_limit_reached": "获取验证码的次数过多，请稍后再试。",
    "locked_out": "失败次数过多，请稍后再试。",
    "backend_error": "第二步验证服务暂时不可用，请稍后再试。",
    "storage_unavailable": "第二步验证服务暂时不可用，请稍后再试。",
    "delivery_failed": "验证码发送失败。请重试或改用其他验证方式。",
    "authentication_required": "请登录后继续。",
    "login_required": "请登录后继续。",
    "otp_required": "请使用第二步验证确认是您本人。",
    "fresh_otp_required": "请再次确认是您本人后继续。",
    "confirmation_required": "请输入第二步验证的验证码以确认此交易。",
    "enrollment_required": "请先设置第二步验证方式。",
    "csrf_failed": "表单已过期。请刷新页面后重试。",
    "primary_factor_required": "请先设置手机号码或身份验证器应用。",
    "last_factor": "这是您最后一种第二步验证方式；请先添加其他方式再删除它。",
}


def language_of(locale: str | None, default: str = "en") -> str:
    """``zh-Hans-CN`` / ``zh_CN`` → ``zh``; languages without a catalog → ``default``."""
    for candidate in (locale, default):
        language = (candidate or "").replace("_", "-").split("-")[0].lower()
        if language == "en" or language in _CATALOG:
            return language
    return "en"


def languages() -> tuple[str, ...]:
    """Every language with a catalog, English first."""
    return ("en", *sorted(_CATALOG))


def negotiate(
    accept_language: str | None, default: str = "en", available: tuple[str, ...] | None = None
) -> str:
    """The best of ``available`` (default: :func:`languages`) for an Accept-Language header."""
    offered = available or languages()
    ranked: list[tuple[float, int, str]] = []
    for index, part in enumerate((accept_language or "")[:1000].split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                continue
        language = tag.strip().replace("_", "-").split("-")[0].lower()
        if language in offered and quality > 0:
            ranked.append((-quality, index, language))
    return min(ranked)[2] if ranked else language_of(default)


def register(language: str, strings: Mapping[str, str]) -> None:
    """Add translations (English source text → translated text) for ``language``."""
    _CATALOG.setdefault(language, {}).update(strings)


def gettext(text: str, locale: str | None) -> str:
    """``text`` in the language of ``locale``, or ``text`` itself."""
    return _CATALOG.get(language_of(locale), {}).get(text, text)


def error_message(error: OtpgateError, locale: str | None) -> str:
    """The error's message in the language of ``locale``: Chinese by ``.code``, another
    :func:`register`-ed language by its English text, else English."""
    if language_of(locale) != "zh":
        return gettext(error.message, locale)
    if isinstance(error, LockedOut) and error.hard:
        return "失败次数过多，此账户的第二步验证已被锁定，请联系客服。"
    return _ERRORS_ZH.get(error.code, error.message)
