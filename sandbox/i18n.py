"""Languages of the app: gettext catalogs managed with Babel, and numbers and dates per language.

Pure: no Streamlit import. The view layer (sandbox/ui.py) binds `_` / `ngettext` to the language of
the browser session; core packages (sandbox/mse, sandbox/mpc, ...) produce data and never translate.
Functions that draw a chart take a `gettext` argument instead (identity by default, so English).

Catalogs: sandbox/locale/messages.pot (extracted from the code with `pybabel extract -F babel.cfg`),
sandbox/locale/{nl,en}/LC_MESSAGES/messages.po (translations), messages.mo (compiled; `make i18n`).
English is the source language: the en catalog is empty on purpose (msgid = the text shown).
"""

from __future__ import annotations

import contextvars
import datetime as _dt
import functools
import gettext as _gettext
import io
import os
from collections.abc import Callable, Mapping
from pathlib import Path

from babel import dates as _dates
from babel import numbers as _numbers

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


def _locale(lang: str) -> str:
    return _BABEL_LOCALE[normalise_language(lang) or DEFAULT_LANGUAGE]


def format_int(value: float, lang: str) -> str:
    """1234 -> '1.234' (nl) or '1,234' (en)."""
    return _numbers.format_decimal(round(value), format="#,##0", locale=_locale(lang))


def format_decimal(value: float, lang: str, digits: int = 1) -> str:
    """1234.5 -> '1.234,5' (nl) or '1,234.5' (en), with exactly `digits` decimals."""
    pattern = "#,##0" + ("." + "0" * digits if digits > 0 else "")
    return _numbers.format_decimal(value, format=pattern, locale=_locale(lang))


def format_percent(fraction: float, lang: str, digits: int = 0) -> str:
    """0.052 -> '5%' (digits=0) or '5,2%' (nl, digits=1)."""
    pattern = "#,##0" + ("." + "0" * digits if digits > 0 else "") + "%"
    return _numbers.format_percent(fraction, format=pattern, locale=_locale(lang))


def plotly_separators(lang: str) -> str:
    """Plotly's `separators` layout value (decimal mark, then thousands): ',.' in Dutch, '.,' in English."""
    loc = _locale(lang)
    return _numbers.get_decimal_symbol(loc) + _numbers.get_group_symbol(loc)


def format_date(value: _dt.date, lang: str, form: str = "long") -> str:
    """2 December 2026 / 2 december 2026."""
    return _dates.format_date(value, format=form, locale=_locale(lang))


def localized(text: object, lang: str) -> str:
    """A scenario text in a language: a LocalText or {en:..., nl:...} mapping picks `lang`; a plain string
    (a scenario written in one language) is shown as it is."""
    by_lang = getattr(text, "by_lang", None)
    if by_lang is None and isinstance(text, Mapping):
        by_lang = text
    if by_lang:
        return str(by_lang.get(lang) or by_lang.get("en") or next(iter(by_lang.values())))
    return "" if text is None else str(text)
