"""Text in a scenario file that may be written in several languages.

    title: "Dutch baseline"                        # one language: shown as it is in every language
    title: {en: "Dutch baseline", nl: "Nederlandse basislijn"}

Either form loads as a `LocalText`: a `str` whose value is the English text (so the CLI, JSON output and
file names stay English, as before) that also carries every language in `.by_lang`. The app picks the
language of the browser session with `sandbox.i18n.localized(text, lang)`.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import PlainSerializer, PlainValidator

__all__ = ["LANGUAGE_CODES", "LocalText", "Text"]

LANGUAGE_CODES = ("en", "nl")


class LocalText(str):
    """A str (the English text) with its translations in `by_lang`."""

    by_lang: dict[str, str]

    def __new__(cls, by_lang: dict[str, str]) -> LocalText:
        value = by_lang.get("en") or next(iter(by_lang.values()))
        obj = super().__new__(cls, value)
        obj.by_lang = dict(by_lang)
        return obj

    def get(self, lang: str) -> str:
        return self.by_lang.get(lang) or str(self)

    def __reduce__(self):  # keep the translations through pickling (st.cache_data, multiprocessing)
        return (LocalText, (self.by_lang,))


def _to_local_text(value: Any) -> LocalText:
    if isinstance(value, LocalText):
        return value
    if isinstance(value, str):
        return LocalText({"en": value})
    if isinstance(value, dict):
        if not value:
            raise ValueError("a text in several languages needs at least one language, e.g. {en: ..., nl: ...}")
        unknown = sorted(str(k) for k in value if k not in LANGUAGE_CODES)
        if unknown:
            raise ValueError(f"unknown language {', '.join(unknown)}; use {', '.join(LANGUAGE_CODES)}")
        bad = sorted(k for k, v in value.items() if not isinstance(v, str) or not v.strip())
        if bad:
            raise ValueError(f"the text for language {', '.join(bad)} must be a non-empty string")
        return LocalText({k: value[k] for k in LANGUAGE_CODES if k in value})
    raise ValueError("a text must be a string or a mapping of languages to strings, e.g. {en: ..., nl: ...}")


def _serialise(value: LocalText) -> str | dict[str, str]:
    by_lang = getattr(value, "by_lang", {"en": str(value)})
    return str(value) if set(by_lang) == {"en"} else dict(by_lang)


# A pydantic field type: `title: Text`.
Text = Annotated[LocalText, PlainValidator(_to_local_text), PlainSerializer(_serialise)]
