"""Languages of the app: gettext catalogs managed with Babel, and numbers and dates per language.

Pure: no Streamlit import. The view layer (sandbox/ui.py) binds `_` / `ngettext` to the language of
the browser session; core packages (sandbox/mse, sandbox/mpc, ...) produce data and never translate.
Functions that draw a chart take a `gettext` argument instead (identity by default, so English).

Catalogs: sandbox/locale/messages.pot (extracted from the code with `pybabel extract -F babel.cfg`),
sandbox/locale/{nl,en}/LC_MESSAGES/messages.po (translations), messages.mo (compiled; `make i18n`).
English is the source language: the en catalog is empty on purpose (msgid = the text shown).

Errors and warnings of the core packages: their English text is built from a template marked with N_ and
filled with `.format(...)`, e.g. `raise QueryError(N_("unknown measure {measure!r}; known: {known}").format(...))`,
so `str(exc)` is the exact English text the CLI prints and the core never knows the language. The view layer
shows it with `translate_message(exc, lang)`: the text is matched against the templates of the catalog (which
survives a party process writing its error to stderr, a job keeping only `str(exc)`, a warning in a list) and
the translated template is filled with the same values. Placeholders named in `NESTED_PLACEHOLDERS`
({error}, {reason}, ...) hold another message and are translated in turn; every other placeholder holds a value
(a file name, a code, a number) and is shown as it is. A text that matches no template is shown unchanged.
Codes (field names, code-list values, MPC phases) get their labels from sandbox/views/labels.py.
"""

from __future__ import annotations

import contextvars
import dataclasses
import datetime as _dt
import functools
import gettext as _gettext
import io
import os
import re
import string
from collections.abc import Callable, Mapping
from pathlib import Path

__all__ = [
    "DEFAULT_LANGUAGE",
    "N_",
    "current_language",
    "gettext",
    "ngettext",
    "use_language",
    "LANGUAGES",
    "LOCALE_DIR",
    "default_language",
    "format_date",
    "format_decimal",
    "format_int",
    "format_percent",
    "gettext_for",
    "localized",
    "ngettext_for",
    "normalise_language",
    "plotly_separators",
    "translate_message",
    "translations",
]

LOCALE_DIR = Path(__file__).resolve().parent / "locale"
DOMAIN = "messages"
# Shown in the language switch, in their own language.
LANGUAGES: dict[str, str] = {"nl": "Nederlands", "en": "English"}
DEFAULT_LANGUAGE = "nl"
_BABEL_LOCALE = {"nl": "nl_NL", "en": "en_GB"}


def N_(message: str) -> str:  # noqa: N802  (the gettext convention)
    """Marks a text for extraction without translating it (`_()` translates it where it is shown)."""
    return message


def normalise_language(value: object) -> str | None:
    """'nl', 'NL', 'nl-NL', 'en_GB' -> 'nl' / 'en'; anything else -> None."""
    if not isinstance(value, str):
        return None
    code = value.strip().lower().replace("_", "-").split("-")[0]
    return code if code in LANGUAGES else None


def default_language() -> str:
    """The app's language when the browser asks for none: MPC_SANDBOX_LANG, else Dutch."""
    return normalise_language(os.environ.get("MPC_SANDBOX_LANG")) or DEFAULT_LANGUAGE


@functools.cache
def translations(lang: str) -> _gettext.NullTranslations:
    """The catalog of a language: its compiled .mo (`make i18n`, or the install step), or, when that is
    missing or older than the .po, the .po compiled in memory by Babel (so a stale build never shows old text)."""
    lang = normalise_language(lang) or DEFAULT_LANGUAGE
    folder = LOCALE_DIR / lang / "LC_MESSAGES"
    po, mo = folder / f"{DOMAIN}.po", folder / f"{DOMAIN}.mo"
    if mo.is_file() and (not po.is_file() or mo.stat().st_mtime >= po.stat().st_mtime):
        with mo.open("rb") as fh:
            return _gettext.GNUTranslations(fh)
    if not po.is_file():
        if lang == "en":  # English is the source language: the text in the code is the text shown
            return _gettext.NullTranslations()
        raise FileNotFoundError(f"{po} is missing: the {LANGUAGES[lang]} catalog is not installed")
    from babel.messages import mofile, pofile

    with po.open("rb") as fh:
        catalog = pofile.read_po(fh, locale=lang)
    buffer = io.BytesIO()
    mofile.write_mo(buffer, catalog)
    buffer.seek(0)
    return _gettext.GNUTranslations(buffer)


# The language of the code running now (one Streamlit script run is one thread, so one context): set by the
# view layer (sandbox.ui.lang), read by helpers outside it that label things (sandbox/views, the report).
_CURRENT: contextvars.ContextVar[str | None] = contextvars.ContextVar("mpc_sandbox_language", default=None)


def use_language(lang: str) -> None:
    _CURRENT.set(normalise_language(lang) or default_language())


def current_language() -> str:
    return _CURRENT.get() or default_language()


def gettext(message: str) -> str:
    """gettext in the current language (see use_language); `_ = gettext` in modules outside the pages."""
    return translations(current_language()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return translations(current_language()).ngettext(singular, plural, n)


def gettext_for(lang: str) -> Callable[[str], str]:
    """`_` for one language: pass it to functions outside the view layer that label a chart."""
    return translations(lang).gettext


def ngettext_for(lang: str) -> Callable[[str, str, int], str]:
    return translations(lang).ngettext


def _babel(name: str):
    """babel.numbers / babel.dates, imported when first used: core packages import N_ from here, and a party
    process should not pay for Babel's locale data."""
    import importlib

    return importlib.import_module(f"babel.{name}")


def _locale(lang: str) -> str:
    return _BABEL_LOCALE[normalise_language(lang) or DEFAULT_LANGUAGE]


def format_int(value: float, lang: str) -> str:
    """1234 -> '1.234' (nl) or '1,234' (en)."""
    return _babel("numbers").format_decimal(round(value), format="#,##0", locale=_locale(lang))


def format_decimal(value: float, lang: str, digits: int = 1) -> str:
    """1234.5 -> '1.234,5' (nl) or '1,234.5' (en), with exactly `digits` decimals."""
    pattern = "#,##0" + ("." + "0" * digits if digits > 0 else "")
    return _babel("numbers").format_decimal(value, format=pattern, locale=_locale(lang))


def format_percent(fraction: float, lang: str, digits: int = 0) -> str:
    """0.052 -> '5%' (digits=0) or '5,2%' (nl, digits=1)."""
    pattern = "#,##0" + ("." + "0" * digits if digits > 0 else "") + "%"
    return _babel("numbers").format_percent(fraction, format=pattern, locale=_locale(lang))


def plotly_separators(lang: str) -> str:
    """Plotly's `separators` layout value (decimal mark, then thousands): ',.' in Dutch, '.,' in English."""
    loc = _locale(lang)
    return _babel("numbers").get_decimal_symbol(loc) + _babel("numbers").get_group_symbol(loc)


def format_date(value: _dt.date, lang: str, form: str = "long") -> str:
    """2 December 2026 / 2 december 2026."""
    return _babel("dates").format_date(value, format=form, locale=_locale(lang))


def localized(text: object, lang: str) -> str:
    """A scenario text in a language: a LocalText or {en:..., nl:...} mapping picks `lang`; a plain string
    (a scenario written in one language) is shown as it is."""
    by_lang = getattr(text, "by_lang", None)
    if by_lang is None and isinstance(text, Mapping):
        by_lang = text
    if by_lang:
        return str(by_lang.get(lang) or by_lang.get("en") or next(iter(by_lang.values())))
    return "" if text is None else str(text)


# ---- core errors and warnings in the session's language (see the module docstring)

# Placeholders that hold another message, translated in turn ("party 2 (police) failed: {reason}").
NESTED_PLACEHOLDERS = frozenset({"error", "reason", "detail", "warning", "place"})
_MAX_DEPTH = 4
# A template with less fixed text than this (a page label such as "{n} on {s}" or "{name} is {values}") is used
# only when each of its plain fields holds one word or number: otherwise it would match any English sentence.
_SHORT_TEMPLATE = 10


@dataclasses.dataclass(frozen=True)
class _Template:
    pattern: re.Pattern[str]
    greedy: re.Pattern[str]  # the same with greedy fields: the other way to split "{place} {text!r} is ..."
    fields: tuple[tuple[str, str], ...]  # (name, as written: "name!r"), one per group of `pattern`
    literal: str  # the longest piece of fixed text (a quick test before the regex)
    weight: int  # characters of fixed text
    translated: tuple[tuple[str, str | None], ...]  # (fixed text, field as written or None) of the translation


def _pieces(template: str) -> list[tuple[str, str | None, str | None]] | None:
    """'{path}: no rows' -> [('', 'path', 'path'), (': no rows', None, None)] (fixed text, field name, field as
    written with its conversion and format); None for a text that is not a format string with named fields
    (positional `{}` or `{0}`, a stray brace)."""
    out: list[tuple[str, str | None, str | None]] = []
    try:
        for literal, field, spec, conv in string.Formatter().parse(template):
            if field is not None and (not field or not field.isidentifier()):
                return None
            written = None if field is None else field + (f"!{conv}" if conv else "") + (f":{spec}" if spec else "")
            out.append((literal, field, written))
    except ValueError:
        return None
    return out


@functools.cache
def _catalog(lang: str) -> tuple[dict[str, str], tuple[_Template, ...]]:
    """The language's plain texts (msgid -> msgstr) and its templates with named fields, read from the .po."""
    po = LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"
    if not po.is_file():
        return {}, ()
    from babel.messages import pofile

    with po.open("rb") as fh:
        catalog = pofile.read_po(fh, locale=lang)
    plain: dict[str, str] = {}
    templates = []
    for m in catalog:
        if not m.id or not isinstance(m.id, str) or m.context or not m.string or m.fuzzy:
            continue
        source, target = _pieces(m.id), _pieces(m.string)
        if source is None or target is None:
            continue
        fields = tuple((f, w) for _lit, f, w in source if f)
        if not fields:  # a plain text (its {{ }} written as { } when it was formatted)
            plain[m.id] = m.string
            plain["".join(lit for lit, _f, _w in source)] = "".join(lit for lit, _f, _w in target)
            continue
        if {w for _lit, _f, w in target if w} - {w for _f, w in fields}:
            continue  # a translation with a field the English text does not fill: never shown
        fixed = [lit for lit, _f, _w in source if lit]
        if not fixed:
            continue  # "{error}" alone would match anything
        regex = "".join(re.escape(lit) + ("(.*?)" if f else "") for lit, f, _w in source)
        greedy = "".join(re.escape(lit) + ("(.*)" if f else "") for lit, f, _w in source)
        templates.append(_Template(re.compile(regex, re.DOTALL), re.compile(greedy, re.DOTALL), fields,
                                   max(fixed, key=len), sum(map(len, fixed)),
                                   tuple((lit, w) for lit, _f, w in target)))
    return plain, tuple(templates)


def _translate(text: str, lang: str, depth: int) -> tuple[str, int]:
    """(the text in `lang`, how many of its characters a template explained). When several templates match,
    the reading that explains the most characters wins: "party 1 (x) failed: a.csv: no rows" is the
    party template around the file template, not the file template with "party 1 (x) failed: a.csv" as path;
    and of one template, split with the shortest and with the longest first fields, the split that explains more."""
    plain, templates = _catalog(lang)
    if text in plain:
        return plain[text], len(text)
    stripped = text.strip()
    if stripped and stripped != text and stripped in plain:
        return text.replace(stripped, plain[stripped], 1), len(stripped)
    best, best_explained = text, 0
    if depth < _MAX_DEPTH:
        for t in templates:
            if t.literal not in text:
                continue
            # two fields side by side ("{place} {text!r} is not ...") can be split more than one way: the
            # shortest and the longest first field are both read, and the one that explains more wins
            groups = {found.groups() for found in (t.pattern.fullmatch(text), t.greedy.fullmatch(text)) if found}
            for split in sorted(groups, key=lambda g: [len(v) for v in g]):
                if t.weight < _SHORT_TEMPLATE and any(
                        name not in NESTED_PLACEHOLDERS and any(c.isspace() for c in value)
                        for (name, _w), value in zip(t.fields, split, strict=True)):
                    continue  # "{n} on {s}" must not read "No space left on device" as n = "No space left"
                explained, values = t.weight, {}
                for (name, written), value in zip(t.fields, split, strict=True):
                    if name in NESTED_PLACEHOLDERS:
                        value, inner = _translate(value, lang, depth + 1)
                        explained += inner
                    values.setdefault(written, value)
                if explained > best_explained:
                    best = "".join(lit + (values[w] if w else "") for lit, w in t.translated)
                    best_explained = explained
    if "\n" in text and depth < _MAX_DEPTH:  # several lines (a heading, one line per problem): line by line
        lines = [_translate(line, lang, depth + 1) for line in text.split("\n")]
        if sum(n for _line, n in lines) > best_explained:
            return "\n".join(line for line, _n in lines), sum(n for _line, n in lines)
    return best, best_explained


def translate_message(message: object, lang: str) -> str:
    """An error or warning of the core packages in `lang` (an exception or its text); see the module docstring.
    English, or a text no template of the catalog produces, is returned as it is."""
    text = str(message)
    lang = normalise_language(lang) or DEFAULT_LANGUAGE
    if lang == "en" or not text:
        return text
    return _translate(text, lang, 0)[0]
