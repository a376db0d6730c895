"""Settings: one frozen dataclass, validated when it is built.

Every policy number of otpgate lives here with its default and bound. ``Settings.from_mapping``
reads flat ``OTPGATE_*`` keys (Django settings, Flask config, environment variables), accepting
strings where a number, list or rate is expected.
"""

from __future__ import annotations

import dataclasses
import secrets
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

from .bounds import validate
from .errors import ConfigurationError
from .settings_parsing import _COERCE, _int
from .settings_parsing import RateLimit as RateLimit
from .wiring import KEYS as WIRING_KEYS

#: ``OTPGATE_*`` names that belong to an integration or a tool, not to ``Settings``.
INTEGRATION_KEYS = frozenset(
    {
        # every integration: the store, sender and credentials database (otpgate.core.wiring)
        *WIRING_KEYS,
        # Django (otpgate.integrations.django.conf)
        "OTPGATE_REQUIRED",
        "OTPGATE_EXEMPT_URLS",
        "OTPGATE_FACTOR_RECHECK",  # Django and Flask
        "OTPGATE_ACCOUNT_LABEL",
        "OTPGATE_BASE_TEMPLATE",  # Django and Flask
        # Flask (otpgate.integrations.flask.extension.CONFIG_DEFAULTS)
        "OTPGATE_URL_PREFIX",
        "OTPGATE_BLUEPRINT_NAME",
        "OTPGATE_ENFORCE",
        "OTPGATE_LOGIN_VIEW",
        "OTPGATE_HOME_URL",
        "OTPGATE_LANGUAGES",
        # the dev inbox, and the tests' browser
        "OTPGATE_INBOX_DB",
        "OTPGATE_CHROMIUM",
    }
)


def generate_secret_key() -> str:
    """A new random key for ``secret_keys`` (256 bits, URL-safe text)."""
    return secrets.token_urlsafe(32)


@dataclass(frozen=True)
class Settings:
    """otpgate's policy. Defaults follow DESIGN.md; construction validates every bound."""

    #: Keys for encryption at rest and keyed digests; the first encrypts, all decrypt (rotation).
    secret_keys: tuple[str, ...] = field(default=(), repr=False)
    #: Shown in the SMS text and as the TOTP issuer (beside the account name: the user's email,
    #: else user name, in every integration).
    brand: str = "otpgate"
    #: Adds the WebOTP line ``@domain #code`` to each SMS when set.
    webotp_domain: str | None = None
    default_locale: str = "en"
    #: Android SMS Retriever app hash (11 characters), added before the WebOTP line.
    android_app_hash: str | None = None
    #: Most SMS segments one message may take; templates that could exceed it are refused
    #: when a verifier is built, and longer transaction summaries when a code is requested.
    max_sms_segments: int = 2

    code_digits: int = 6
    code_lifetime: int = 300
    max_attempts: int = 5
    resend_cooldown: int = 30
    max_sends: int = 5

    phone_budget_short: RateLimit = RateLimit(5, 15 * 60)
    phone_budget_long: RateLimit = RateLimit(10, 24 * 3600)
    #: Codes one number may receive to verify it (``enroll``), from every account and client
    #: together: what a stranger can send to a number that is not theirs. One set-up with all
    #: its resends fits; at most 20 a day.
    enrollment_budget: RateLimit = RateLimit(5, 24 * 3600)
    subject_budget: RateLimit = RateLimit(10, 24 * 3600)
    #: Voice calls (the ``voice`` factor: the code read out) one subject may have placed to
    #: one of their numbers: tighter than SMS, as calls cost more and are a toll-fraud
    #: target. Each call also spends every budget an SMS spends (the number's, the subject's,
    #: the client IP's, the country's), so they hold across texts and calls together.
    voice_budget: RateLimit = RateLimit(3, 24 * 3600)
    ip_budget: RateLimit = RateLimit(20, 3600)
    #: Daily SMS cap per country calling code, e.g. ``{"44": 5000}``; ``default_country_cap``
    #: applies to every other country (None: no cap).
    country_caps: Mapping[str, int] = field(default_factory=dict)
    default_country_cap: int | None = None

    default_region: str | None = None
    allowed_regions: frozenset[str] = frozenset()
    denied_regions: frozenset[str] = frozenset()
    allowed_number_types: frozenset[str] = frozenset({"MOBILE", "FIXED_LINE_OR_MOBILE"})
    #: Accept numbers of the international networks (``phonenumbers`` region ``001``:
    #: satellite phones such as Iridium +881 and Inmarsat +870, +882/+883 networks, UIFN
    #: +800): costly, and favourite SMS pumping targets. The region lists then apply to them
    #: as ``001``.
    allow_international_networks: bool = False

    lockout_after: int = 5
    lockout_base: int = 60
    lockout_max: int = 15 * 60
    hard_lock_after: int = 50
    #: A subject's failure count is forgotten after this long without a failure.
    failure_memory: int = 24 * 3600

    totp_digits: int = 6
    totp_period: int = 30
    totp_window: int = 1
    totp_algorithm: str = "SHA1"
    totp_secret_bytes: int = 20

    recovery_code_count: int = 10
    #: Step-up freshness; every change of factors needs a second factor this recent.
    step_up_max_age: int = 300
    #: How long the second step of a login may wait after the password step.
    login_step_timeout: int = 600
    remember_device: bool = False
    remember_device_days: int = 30
    #: Who may show otpgate's pages in a frame: ``'self'`` and/or origins such as
    #: ``https://portal.example``; empty (default): nobody (``X-Frame-Options: DENY``,
    #: CSP ``frame-ancestors 'none'``).
    frame_ancestors: tuple[str, ...] = ()
    #: The factors that may confirm a transaction's details (a recovery code never may): a
    #: code by SMS (which also carries the details, PSD2's dynamic linking) or from the app.
    transaction_factors: tuple[str, ...] = ("sms", "totp", "webauthn")
    #: Ask the operator (the verifier's ``sim_swap`` check, e.g. CAMARA's SIM Swap API)
    #: whether a number's SIM changed within this many hours before sending a code to it
    #: for sign-in, step-up or a transaction; a recent swap makes SMS unavailable for that
    #: subject. 0 (default): never ask.
    sim_swap_max_age: int = 0
    #: What an unanswered SIM-swap check means: ``allow`` (default: send, and emit an event;
    #: an operator outage must not lock out users whose only factor is SMS) or ``refuse``.
    sim_swap_on_error: str = "allow"
    #: The SMS pumping guard (``otpgate.core.pumping``): pause codes to a number range whose
    #: sends surge far above its own baseline while almost none of its codes are entered.
    pumping_guard: bool = True
    #: National digits after the calling code that make a watched range: 4 names a block of
    #: about a million numbers (an operator's range), never one subscriber.
    pumping_prefix_digits: int = 4
    #: The recent window (seconds) whose sends and conversion are judged.
    pumping_window: int = 1800
    #: A range is suspect when its window's sends exceed this many times its average window
    #: over the day before (and exceed the floor).
    pumping_surge: int = 5
    #: Sends a window any range may get whatever its baseline (a quiet range's spikes).
    pumping_floor: int = 30
    #: The same for a whole country (calling code).
    pumping_country_floor: int = 300
    #: Sends a window to a country with no send in the day before (a first-time country).
    pumping_new_country_allowance: int = 10
    #: Percent of settled codes that must be entered for a surge to be let through: real
    #: users enter most codes (70-90 %); pumped numbers almost never.
    pumping_min_conversion: int = 30
    #: Settled sends needed before conversion is trusted (or the limit, if lower).
    pumping_min_sample: int = 20
    #: How long a range stays blocked (an operator may lift it sooner).
    pumping_block_seconds: int = 6 * 3600

    #: Passkeys (WebAuthn): the relying party id, a host name such as ``shop.example``
    #: (every origin's host is it or one of its subdomains). None (default): no passkeys.
    webauthn_rp_id: str | None = None
    #: The name an authenticator shows for the site (default: ``brand``).
    webauthn_rp_name: str | None = None
    #: The origins pages ask for passkeys from, such as ``https://shop.example``; a response
    #: from any other origin is refused. Required with ``webauthn_rp_id``.
    webauthn_origins: tuple[str, ...] = ()
    #: How long a passkey challenge (options handed to the browser) may be answered.
    webauthn_challenge_lifetime: int = 180

    def __post_init__(self) -> None:
        for name, convert in _COERCE.items():
            try:
                object.__setattr__(self, name, convert(getattr(self, name)))
            except (TypeError, ValueError) as exc:
                raise ConfigurationError(name, str(exc)) from None
        validate(self)

    @classmethod
    def from_mapping(
        cls,
        mapping: Mapping[str, Any],
        prefix: str = "OTPGATE_",
        *,
        ignore: Collection[str] = (),
    ) -> Settings:
        """Build from flat keys such as ``OTPGATE_CODE_DIGITS``; keys without ``prefix`` are
        skipped, as are the ``ignore`` names (an integration's own keys, such as
        ``"URL_PREFIX"``); any other unknown prefixed key is a configuration error."""
        names = {f.name for f in dataclasses.fields(cls)}
        ignored = {name.upper().removeprefix(prefix.upper()) for name in ignore}
        values: dict[str, Any] = {}
        for key, raw in mapping.items():
            if not key.startswith(prefix):
                continue
            name = key[len(prefix) :].lower()
            if name.upper() in ignored:
                continue
            if name not in names:
                raise ConfigurationError(key, "unknown setting")
            try:
                values[name] = _COERCE.get(name, _int)(raw)
            except (TypeError, ValueError) as exc:
                raise ConfigurationError(key, str(exc)) from None
        return cls(**values)

    def replace(self, **changes: Any) -> Settings:
        """A copy with ``changes`` applied (validated again)."""
        return dataclasses.replace(self, **changes)
