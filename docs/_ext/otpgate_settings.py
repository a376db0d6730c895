"""The configuration reference, generated from ``otpgate.core.settings.Settings``.

Each row comes from the code: the field's name and default from the dataclass, its
``OTPGATE_*`` name, its bound from the validation module (the ``bounded`` table and each
``_check(..., "setting", "problem")`` call, read with ``ast``), its meaning from the field's
``#:`` comment, or else from :data:`MEANINGS` below, and the text form ``from_mapping``
accepts from the converter it uses. ``.. otpgate-settings::`` renders the table in Sphinx;
``python docs/_ext/otpgate_settings.py`` prints it.
"""

from __future__ import annotations

import ast
import contextlib
import dataclasses
import importlib
import inspect
import operator
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from otpgate.core import settings as settings_module
from otpgate.core.settings import RateLimit, Settings

#: Meanings of the fields whose source has no ``#:`` comment (a test keeps this complete).
MEANINGS = {
    "default_locale": "Language of SMS texts and pages when a request names none.",
    "code_digits": "Digits of each SMS code, drawn with ``secrets``.",
    "code_lifetime": "Seconds an SMS code stays valid after it is sent.",
    "max_attempts": "Wrong codes a challenge accepts before it ends as ``max_attempts_reached``.",
    "resend_cooldown": "Seconds to wait before the first resend; the wait doubles with each "
    "resend. A resend sends the same code while it is valid.",
    "max_sends": "Most SMS one challenge may send (the first and its resends).",
    "phone_budget_short": "SMS one subject may cause to one phone number in a short window "
    "(SMS pumping, harassment). Counted per number and subject, so no other account can "
    "spend a number's sign-in codes.",
    "phone_budget_long": "SMS one subject may cause to one phone number in a long window.",
    "subject_budget": "SMS one subject (user) may cause, whatever the number.",
    "ip_budget": "SMS one client may cause: an IPv4 address, or an IPv6 address's /64.",
    "default_country_cap": "Daily SMS cap for every calling code not in ``country_caps`` "
    "(none: no cap).",
    "default_region": "Region for numbers typed without ``+`` and a country code "
    "(ISO 3166, e.g. ``FR``).",
    "allowed_regions": "Only numbers of these regions are accepted (empty: every region).",
    "denied_regions": "Numbers of these regions are refused.",
    "allowed_number_types": "Number types accepted (``phonenumbers`` names); premium-rate, "
    "toll-free, VoIP and the like are refused by default.",
    "lockout_after": "Consecutive failures (any factor) after which a subject must wait.",
    "lockout_base": "The first wait, in seconds; it doubles with each further failure.",
    "lockout_max": "The longest wait, in seconds.",
    "hard_lock_after": "Consecutive failures after which the subject is locked until an "
    "administrator unlocks it.",
    "totp_digits": "Digits of authenticator-app codes.",
    "totp_period": "Seconds each authenticator-app code lasts.",
    "totp_window": "Steps before and after the current one that are still accepted (clock drift).",
    "totp_algorithm": "HMAC of authenticator-app codes (most apps only support SHA1).",
    "totp_secret_bytes": "Bytes of each new authenticator-app secret.",
    "recovery_code_count": "Recovery codes made at a time (each single use).",
    "step_up_max_age": "Default seconds a passed second factor counts as fresh for step-up; "
    "every change of factors (adding, confirming, resending, regenerating, removing) needs "
    "one this fresh.",
    "remember_device": "Offer \"Don't ask again on this device\" on the second step of a "
    "sign-in: a remembered device then skips that step (sign-in only; never a step-up or a "
    "transaction). See :doc:`devices`.",
    "remember_device_days": "Days a remembered device skips the sign-in second step; it is "
    "void sooner when any factor or the password changes, or when it is revoked.",
}
_FORMATS = {
    "_words": "a list, or comma-separated text",
    "_names": "a list, or comma-separated text (factor names)",
    "_upper_set": "a set, or comma-separated text",
    "_caps": "a mapping, or text like ``44=5000,1=20000``",
    "_bool": "``true`` / ``false``",
    "_origins": "a list, or text separated by spaces or commas (``self`` needs no quotes)",
    "parse": "``RateLimit(limit, seconds)``, a pair, or text like ``5/15m``, ``20/h``, ``10/24h``",
}
_OPERATORS: dict[type, Callable[[Any, Any], Any]] = {
    ast.Mult: operator.mul,
    ast.Add: operator.add,
    ast.Sub: operator.sub,
}


@dataclass(frozen=True)
class Row:
    name: str
    env: str
    default: str
    bound: str
    meaning: str
    text_form: str


def _number(node: ast.expr) -> Any:
    """Constants and arithmetic on them (``7 * 86400``), nothing else."""
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.BinOp) and type(node.op) in _OPERATORS:
        return _OPERATORS[type(node.op)](_number(node.left), _number(node.right))
    if isinstance(node, ast.Tuple):
        return tuple(_number(item) for item in node.elts)
    raise ValueError(f"not a constant: {ast.unparse(node)}")


def _validation_modules() -> Iterator[Any]:
    yield settings_module
    with contextlib.suppress(ImportError):  # the bounds may live in a module of their own
        yield importlib.import_module("otpgate.core.bounds")


def bounds() -> tuple[dict[str, tuple[int, int]], dict[str, list[str]]]:
    """``(numeric bounds, other rules)`` per field, read from the validation code."""
    ranges: dict[str, tuple[int, int]] = {}
    rules: dict[str, list[str]] = {}
    for module in _validation_modules():
        tree = ast.parse(inspect.getsource(module))
        loops: dict[int, tuple[str, ...]] = {}
        for node in ast.walk(tree):
            if isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == "bounded" for t in node.targets
            ):
                assert isinstance(node.value, ast.Dict)
                for key, value in zip(node.value.keys, node.value.values, strict=True):
                    assert isinstance(key, ast.Constant)
                    ranges[str(key.value)] = _number(value)
            if isinstance(node, ast.For) and isinstance(node.iter, ast.Tuple):
                names = tuple(e.value for e in node.iter.elts if isinstance(e, ast.Constant))
                for inner in ast.walk(node):
                    loops[id(inner)] = names
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and getattr(node.func, "id", "") == "_check"):
                continue
            setting, problem = node.args[1], node.args[2]
            if not isinstance(problem, ast.Constant) or problem.value == "expected an integer":
                continue
            if isinstance(setting, ast.Constant):
                targets: tuple[str, ...] = (str(setting.value),)
            else:
                targets = loops.get(id(node), ())
            for name in targets:
                rules.setdefault(name, []).append(str(problem.value))
    return ranges, rules


def comments() -> dict[str, str]:
    """The ``#:`` comment above each field of ``Settings``."""
    found: dict[str, str] = {}
    pending: list[str] = []
    for line in inspect.getsource(Settings).splitlines():
        text = line.strip()
        if text.startswith("#:"):
            pending.append(text[2:].strip())
        elif ":" in text and text.split(":", 1)[0].isidentifier() and pending:
            found[text.split(":", 1)[0]] = " ".join(pending)
            pending = []
        else:
            pending = []
    return found


def _default(field: dataclasses.Field[Any]) -> str:
    value = field.default
    if field.default_factory is not dataclasses.MISSING:
        value = field.default_factory()
    if field.name == "secret_keys":
        return "none: required"
    if isinstance(value, RateLimit):
        for unit, seconds in (("h", 3600), ("m", 60), ("s", 1)):
            if value.window % seconds == 0:
                return f"``{value.limit}/{value.window // seconds}{unit}``"
    if isinstance(value, frozenset):
        return ", ".join(f"``{v}``" for v in sorted(value)) or "empty"
    if value is None or value == {} or value == ():
        return "none" if value is None else "empty"
    return f"``{value!r}``" if isinstance(value, str) else f"``{value}``"


def rows() -> list[Row]:
    ranges, rules = bounds()
    notes = comments()
    converters = getattr(settings_module, "_COERCE", {})
    found = []
    for field in dataclasses.fields(Settings):
        parts = []
        if field.name in ranges:
            low, high = ranges[field.name]
            parts.append(f"{low} – {high}")
        parts += rules.get(field.name, [])
        convert = converters.get(field.name)
        text_form = _FORMATS.get(getattr(convert, "__name__", ""), "")
        if not text_form:
            kind = str(field.type)
            text_form = "a whole number" if kind.startswith("int") else "the text itself"
            text_form += "; empty for none" if kind.endswith("| None") else ""
        found.append(
            Row(
                name=field.name,
                env=f"OTPGATE_{field.name.upper()}",
                default=_default(field),
                bound="; ".join(parts) or "—",
                meaning=notes.get(field.name) or MEANINGS.get(field.name, ""),
                text_form=text_form,
            )
        )
    return found


def rst() -> list[str]:
    """The reference as a reST list-table."""
    lines = [
        ".. list-table::",
        "   :header-rows: 1",
        "   :widths: 22 14 22 42",
        "",
        "   * - Setting",
        "     - Default",
        "     - Bound",
        "     - Meaning",
    ]
    for row in rows():
        lines += [
            f"   * - ``{row.name}``",
            "",
            f"       ``{row.env}``",
            f"     - {row.default}",
            f"     - {row.bound}",
            f"     - {row.meaning}",
            "",
            f"       As text: {row.text_form}.",
        ]
    return lines


def setup(app: Any) -> dict[str, Any]:
    from docutils.statemachine import StringList
    from sphinx.util.docutils import SphinxDirective

    class SettingsTable(SphinxDirective):
        def run(self) -> list[Any]:
            from docutils import nodes

            container = nodes.container()
            self.state.nested_parse(StringList(rst(), "otpgate_settings"), 0, container)
            return list(container.children)

    app.add_directive("otpgate-settings", SettingsTable)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}


if __name__ == "__main__":
    print("\n".join(rst()))
