"""otpgate's translations: ``python scripts/i18n.py check|extract|compile`` (needs Babel).

Two catalogues per language:

* ``src/otpgate/locale/<lang>/LC_MESSAGES/otpgate.po`` (domain ``otpgate``): the core's error
  messages and SMS texts, strings marked ``N_("...")`` in the core, gateways, FastAPI and the
  dev inbox, and the Flask pages (``translate("...")`` in Python, ``_("...")`` in every
  non-Django template);
* ``src/otpgate/integrations/django/locale/<lang>/LC_MESSAGES/django.po`` (Django's domain):
  the Django templates (``{% translate %}``, ``{% blocktranslate %}``) and ``gettext`` calls.
  Extracting these needs Django importable (run the script with a Django environment).

``extract`` writes the two ``.pot`` templates and merges them into every ``.po``: new strings
come in empty, strings no longer used go away, translations stay. Fill the empty ``msgstr``
lines, then ``compile`` (writes every ``.mo``) and ``check`` (lists, per language, what is
missing, fuzzy, stale or has other placeholders; exits 1 if anything is).
"""

from __future__ import annotations

import gettext
import importlib
import importlib.util
import io
import re
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path

from babel.messages.catalog import Catalog, Message
from babel.messages.extract import extract_from_dir, extract_python
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "src" / "otpgate"
sys.path.insert(0, str(SRC.parent))

from otpgate.core.i18n import SHIPPED, dir_name, source_messages  # noqa: E402

CORE_LOCALE = SRC / "locale"
FLASK = SRC / "integrations" / "flask"
DJANGO = SRC / "integrations" / "django"
DJANGO_LOCALE = DJANGO / "locale"
LANGUAGES = SHIPPED[1:]
#: Modules outside the core whose errors' messages users may see.
ERROR_MODULES = ("otpgate.core.answers", "otpgate.gateways.base")
KEYWORDS_PY = {"translate": None, "_": None, "gettext": None, "gettext_lazy": None,
               "ngettext": (1, 2), "ngettext_lazy": (1, 2), "pgettext": ((1, "c"), 2)}  # fmt: skip
_JINJA_CALL = re.compile(r"""\b_\(\s*(?:"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)')""")
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|%[sd]|\{\w*\}")
#: Placeholders a translation may leave out: an SMS text's lifetime, where a UCS-2 language
#: needs the room to fit one segment (every other placeholder must be kept, none added).
OPTIONAL = frozenset({"{minutes}"})

Key = str | tuple[str, ...]


def _python(root: Path, keywords: dict[str, object]) -> Iterator[tuple[Key, str]]:
    for path, lineno, text, _comments, _context in extract_from_dir(
        root, [("**/migrations/**", "ignore"), ("**.py", "python")], keywords=keywords
    ):
        yield text, f"{Path(root, path).relative_to(ROOT)}:{lineno}"


def otpgate_messages() -> dict[Key, str]:
    """Every msgid of the ``otpgate`` domain → one place it is used."""
    for module in ERROR_MODULES:  # their errors' messages too
        importlib.import_module(module)
    found: dict[Key, str] = dict(source_messages())
    for text, where in _python(FLASK, {"translate": None, "N_": None}):
        found.setdefault(text, where)
    for root in (SRC / "core", SRC / "gateways", SRC / "integrations" / "fastapi", SRC / "inbox"):
        for text, where in _python(root, {"N_": None, "ngettext": (1, 2)}):
            found.setdefault(text, where)
    templates = [p for p in SRC.rglob("templates/**/*") if p.suffix in (".html", ".txt")]
    for template in sorted(p for p in templates if DJANGO not in p.parents):
        for match in _JINJA_CALL.finditer(template.read_text(encoding="utf-8")):
            text = match.group(1) if match.group(1) is not None else match.group(2)
            found.setdefault(text.replace('\\"', '"'), str(template.relative_to(ROOT)))
    return found


def django_messages() -> dict[Key, str]:
    """Every msgid of Django's domain in the Django integration → one place it is used."""
    import django
    from django.conf import settings

    if not settings.configured:
        settings.configure(USE_I18N=True)
        django.setup()
    from django.utils.translation.template import templatize

    found: dict[Key, str] = {}
    keywords = {k: v for k, v in KEYWORDS_PY.items() if k != "translate"}
    for text, where in _python(DJANGO, keywords):
        found.setdefault(text, where)
    for template in sorted((DJANGO / "templates").rglob("*.html")):
        code = templatize(template.read_text(encoding="utf-8"), origin=str(template))
        for _lineno, _func, text, _comments in extract_python(
            io.BytesIO(code.encode("utf-8")), KEYWORDS_PY, [], {}
        ):
            key = tuple(t for t in text if t) if isinstance(text, tuple) else text
            key = key[0] if isinstance(key, tuple) and len(key) == 1 else key
            found.setdefault(key, str(template.relative_to(ROOT)))
    return found


def _template(messages: dict[Key, str], project: str) -> Catalog:
    pot = Catalog(project=project, charset="utf-8", fuzzy=False)
    for key, where in sorted(messages.items(), key=lambda item: str(item[0])):
        path, _, line = where.partition(":")
        flags = ("python-format",) if PLACEHOLDER.search(str(key)) and "%" in str(key) else ()
        pot.add(key, locations=[(path, int(line) if line else None)], flags=flags)
    return pot


def domains() -> Iterator[tuple[Path, str, Catalog]]:
    """(locale directory, domain, template) of both domains."""
    yield CORE_LOCALE, "otpgate", _template(otpgate_messages(), "otpgate")
    if importlib.util.find_spec("django") is None:
        raise SystemExit("the Django catalogues need Django: run this with Django installed")
    yield DJANGO_LOCALE, "django", _template(django_messages(), "otpgate")


def po_path(root: Path, language: str, domain: str) -> Path:
    return root / dir_name(language) / "LC_MESSAGES" / f"{domain}.po"


def load(path: Path, language: str) -> Catalog:
    if not path.exists():
        return Catalog(locale=dir_name(language), project="otpgate", fuzzy=False)
    with path.open("rb") as handle:
        return read_po(handle, locale=dir_name(language))


def save(catalog: Catalog, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as handle:
        write_po(handle, catalog, width=100, omit_header=False, sort_output=True,
                 ignore_obsolete=True, include_previous=False)  # fmt: skip


def extract() -> None:
    for root, domain, pot in domains():
        save(pot, root / f"{domain}.pot")
        for language in LANGUAGES:
            path = po_path(root, language, domain)
            catalog = load(path, language)
            catalog.update(pot, no_fuzzy_matching=True, update_header_comment=False)
            catalog.fuzzy = False
            save(catalog, path)
            print(f"{path.relative_to(ROOT)}: {len(missing(catalog))} to translate")


def compile_all() -> None:
    for root in (CORE_LOCALE, DJANGO_LOCALE):
        for po in sorted(root.glob("*/LC_MESSAGES/*.po")):
            catalog = load(po, po.parent.parent.name)
            with po.with_suffix(".mo").open("wb") as handle:
                write_mo(handle, catalog, use_fuzzy=False)
            print(f"compiled {po.relative_to(ROOT)}")


def _strings(value: object) -> tuple[str, ...]:
    return tuple(value) if isinstance(value, (tuple, list)) else (str(value or ""),)


def placeholders(text: str) -> list[str]:
    return sorted(PLACEHOLDER.findall(text))


def missing(catalog: Catalog) -> list[str]:
    """Entries with an empty or fuzzy translation."""
    return [
        str(m.id)
        for m in _entries(catalog)
        if m.fuzzy or not all(s.strip() for s in _strings(m.string))
    ]


def _entries(catalog: Catalog) -> Iterable[Message]:
    return (m for m in catalog if m.id)


def problems(catalog: Catalog, pot: Catalog) -> list[str]:
    """What is wrong with one language's catalogue against the template."""
    wanted = {m.id for m in _entries(pot)}
    have = {m.id for m in _entries(catalog)}
    found = [f"missing: {m!r}" for m in missing(catalog)]
    found += [f"not in catalogue: {m!r}" for m in sorted(map(str, wanted - have))]
    found += [f"stale (no longer used): {m!r}" for m in sorted(map(str, have - wanted))]
    for m in _entries(catalog):
        source = placeholders(_strings(m.id)[-1])
        for text in _strings(m.string):
            mine = placeholders(text)
            if text and mine != source and mine != [p for p in source if p not in OPTIONAL]:
                found.append(f"placeholders differ: {m.id!r} → {text!r}")
    return found


def mo_agrees(po: Path, language: str) -> bool:
    """Whether the compiled ``.mo`` next to ``po`` holds exactly its translations."""
    mo = po.with_suffix(".mo")
    if not mo.exists():
        return False
    catalog = load(po, language)
    with mo.open("rb") as handle:
        compiled = gettext.GNUTranslations(handle)
    form_of = gettext.c2py(catalog.plural_expr)
    for m in _entries(catalog):
        if isinstance(m.id, (tuple, list)):
            for form, text in enumerate(_strings(m.string)):
                n = next(n for n in range(2_000_001) if form_of(n) == form)
                if compiled.ngettext(m.id[0], m.id[1], n) != text:
                    return False
        elif compiled.gettext(m.id) != m.string:
            return False
    return True


def check() -> int:
    failed = 0
    for root, domain, pot in domains():
        for language in LANGUAGES:
            path = po_path(root, language, domain)
            listed = problems(load(path, language), pot)
            if not mo_agrees(path, language):
                listed.append("the .mo does not say what the .po says: run compile")
            for line in listed:
                print(f"{path.relative_to(ROOT)}: {line}")
            failed += len(listed)
    print(f"{failed} problem(s)")
    return 1 if failed else 0


def main(argv: list[str]) -> int:
    command = argv[1] if len(argv) > 1 else ""
    if command == "extract":
        extract()
    elif command == "compile":
        compile_all()
    elif command == "check":
        return check()
    else:
        print(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
