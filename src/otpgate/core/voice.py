"""Voice calls: the code read out, digit by digit, twice, in the user's language.

A call is a channel of a verified phone number (the ``voice`` factor): the same challenge as
an SMS (same digest, checks, resend cooldown), delivered by a :class:`VoiceSender` instead
of a text. :func:`compose_speech` renders what is said from a per-language template chosen
as the SMS text's language is (the call's locale, else the number's region, else
``default_locale``); gateways turn a :class:`Speech` into their own format (Twilio's TwiML
``<Say>``, Vonage's NCCO ``talk``). ``ConsoleVoiceSender`` and ``OutboxVoiceSender`` are for
development and tests; :class:`PhoneSender` joins an SMS sender and a voice sender into
one part a verifier can be given as its ``sender``.
"""

from __future__ import annotations

import re
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Protocol, TextIO, runtime_checkable

from .errors import ConfigurationError
from .i18n import translations
from .message import sms_language
from .phone import mask
from .settings import Settings


@dataclass(frozen=True)
class VoiceTemplate:
    """One language: what is said, with ``{brand}`` and ``{digits}`` (the code, spoken digit
    by digit), and the BCP 47 tag a text-to-speech engine is given."""

    text: str
    speech_language: str
    #: Put between two digits: a pause (a comma is read as one by every engine).
    separator: str = ", "


#: The source text; every shipped language's text is its translation in the ``otpgate``
#: catalogue (see :mod:`otpgate.core.i18n`), said in the text-to-speech language below.
ENGLISH_VOICE = VoiceTemplate(
    "This is {brand}. Your verification code is: {digits}. "
    "Once again, your code is: {digits}. Never share it. Goodbye.",
    "en-US",
)
#: Shipped language → (text-to-speech BCP 47 tag, pause between two digits).
_SPEECH = {
    "zh-Hans": ("zh-CN", "，"),
    "zh-Hant": ("zh-TW", "，"),
    "es": ("es-ES", ", "),
    "pt-BR": ("pt-BR", ", "),
    "fr": ("fr-FR", ", "),
    "de": ("de-DE", ", "),
    "ja": ("ja-JP", "、"),
    "ko": ("ko-KR", ", "),
    "ru": ("ru-RU", ", "),
    "hi": ("hi-IN", ", "),
    "ar": ("ar-AE", ", "),
}


def _shipped_templates() -> dict[str, VoiceTemplate]:
    found = {"en": ENGLISH_VOICE}
    for language, (speech_language, separator) in _SPEECH.items():
        text = translations(language).gettext(ENGLISH_VOICE.text)
        if text != ENGLISH_VOICE.text:
            found[language] = VoiceTemplate(text, speech_language, separator)
    return found


_TEMPLATES: dict[str, VoiceTemplate] = _shipped_templates()


def register_voice_template(
    language: str, text: str, speech_language: str, *, separator: str = ", "
) -> None:
    """Add or replace the spoken text of ``language`` (e.g. ``"fr"``, ``"fr-FR"``): it must
    say ``{digits}`` twice. The language is chosen as for SMS (see ``register_sms_template``)."""
    if text.count("{digits}") < 2:
        raise ConfigurationError(f"voice template {language}", "say {digits} twice")
    try:
        text.format(brand="b", digits="0")
    except (KeyError, IndexError, ValueError) as exc:
        raise ConfigurationError(f"voice template {language}", str(exc)) from None
    _TEMPLATES[language] = VoiceTemplate(text, speech_language, separator)


@dataclass(frozen=True)
class Speech:
    """What a call says: ``text`` (the code's digits separated by pauses, said twice) in
    ``language`` (BCP 47, for the text-to-speech engine)."""

    text: str = field(repr=False)
    language: str

    def __str__(self) -> str:  # never the code in a log line by accident
        return f"Speech({self.language})"


def _voice_language(locale: str | None, region: str | None, default: str) -> str:
    language = sms_language(locale, region, default)
    return language if language in _TEMPLATES else "en"


def compose_speech(
    settings: Settings, code: str, *, locale: str | None = None, region: str | None = None
) -> Speech:
    """What to say for ``code``: its digits one by one, with a pause between, twice."""
    template = _TEMPLATES[_voice_language(locale, region, settings.default_locale)]
    digits = template.separator.join(code)
    text = template.text.format(brand=settings.brand, digits=digits)
    return Speech(text, template.speech_language)


_SPOKEN_CODE = re.compile(r"\d(?:\s*[,，、.]?\s*\d)+")


def spoken_codes(text: str) -> list[str]:
    """The codes said in a call's text, as digits (``"1, 2, 3"`` → ``"123"``): what a test,
    or the dev inbox, reads back out of a recorded TwiML ``<Say>`` or NCCO ``talk``."""
    return [re.sub(r"\D", "", match.group(0)) for match in _SPOKEN_CODE.finditer(text)]


@runtime_checkable
class VoiceSender(Protocol):
    def call(self, to: str, speech: Speech, *, reference: str = "") -> str:
        """Call the E.164 number ``to`` and say ``speech``; return the provider's call id.

        ``reference`` names the send (``<challenge id>~<send>``) for a status callback.
        Raise :class:`~otpgate.core.errors.DeliveryFailed` if the call cannot be placed.
        """


@runtime_checkable
class AsyncVoiceSender(Protocol):
    async def call(self, to: str, speech: Speech, *, reference: str = "") -> str: ...


class ConsoleVoiceSender:
    """Prints each call with the number masked, for local development."""

    nonblocking = True

    def __init__(self, stream: TextIO | None = None) -> None:
        self._stream = stream

    def call(self, to: str, speech: Speech, *, reference: str = "") -> str:
        stream = self._stream or sys.stdout
        print(f"--- Call to {mask(to)} ({speech.language}) ---\n{speech.text}\n---", file=stream)
        return f"console-call-{uuid.uuid4().hex[:12]}"


@dataclass(frozen=True)
class OutboxCall:
    to: str
    text: str = field(repr=False)
    language: str
    called_at: float
    call_id: str
    reference: str = ""

    @property
    def code(self) -> str | None:
        """The code the call says (the first one; it is said twice)."""
        codes = spoken_codes(self.text)
        return codes[0] if codes else None


class OutboxVoiceSender:
    """Keeps calls in a list for tests. Set ``failing`` to make calls fail."""

    nonblocking = True

    def __init__(self) -> None:
        self.calls: list[OutboxCall] = []
        self.failing: Exception | None = None
        self._lock = threading.Lock()

    def call(self, to: str, speech: Speech, *, reference: str = "") -> str:
        if self.failing is not None:
            raise self.failing
        call_id = f"call-{uuid.uuid4().hex[:12]}"
        placed = OutboxCall(to, speech.text, speech.language, time.time(), call_id, reference)
        with self._lock:
            self.calls.append(placed)
        return call_id

    def calls_to(self, number: str) -> list[OutboxCall]:
        return [c for c in self.calls if c.to == number]

    def last_code_for(self, number: str) -> str | None:
        """The code said in the newest call to ``number`` (E.164), or None."""
        placed = self.calls_to(number)
        return placed[-1].code if placed else None


class PhoneSender:
    """An SMS sender and a voice sender as one part: ``send`` texts, ``call`` calls.

    Give it to a verifier as its ``sender`` (or to an integration's ``OTPGATE_SENDER``) to
    offer the ``voice`` factor; ``nonblocking`` if both parts are.
    """

    def __init__(self, sms: object, voice: object) -> None:
        if not callable(getattr(sms, "send", None)) or not callable(getattr(voice, "call", None)):
            raise ConfigurationError("sender", "PhoneSender needs a send() and a call() part")
        self.sms = sms
        self.voice = voice
        #: Both parts, for ``otpgate check`` (it probes each gateway behind a sender).
        self.senders = [sms, voice]
        self.nonblocking = bool(getattr(sms, "nonblocking", False)) and bool(
            getattr(voice, "nonblocking", False)
        )

    def send(self, to: str, text: str, *, reference: str = "") -> str:
        return self.sms.send(to, text, reference=reference)  # type: ignore[attr-defined, no-any-return]

    def call(self, to: str, speech: Speech, *, reference: str = "") -> str:
        return self.voice.call(to, speech, reference=reference)  # type: ignore[attr-defined, no-any-return]


class AsyncPhoneSender:
    """:class:`PhoneSender` for async parts (an ``AsyncVerifier``'s): both methods await."""

    def __init__(self, sms: object, voice: object) -> None:
        if not callable(getattr(sms, "send", None)) or not callable(getattr(voice, "call", None)):
            raise ConfigurationError("sender", "AsyncPhoneSender needs a send() and a call() part")
        self.sms = sms
        self.voice = voice
        self.senders = [sms, voice]

    async def send(self, to: str, text: str, *, reference: str = "") -> str:
        return await self.sms.send(to, text, reference=reference)  # type: ignore[attr-defined, no-any-return]

    async def call(self, to: str, speech: Speech, *, reference: str = "") -> str:
        return await self.voice.call(to, speech, reference=reference)  # type: ignore[attr-defined, no-any-return]
