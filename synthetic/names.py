"""Names for synthetic victims: per-nationality name pools from Faker's locale data, plus noise.

Faker's person providers keep their names as class-level tuples (some weighted). We read those lists
directly and draw a pool per nationality ONCE per generator run with the run's numpy Generator – no
Faker call per record, so generation stays fast and deterministic. Cyrillic names are transliterated
(a Dutch register writes Latin letters); Chinese names use Faker's romanised lists.
"""

from __future__ import annotations

import functools
import importlib
import importlib.util
import sys
import threading
import unicodedata
from dataclasses import dataclass

import numpy as np

__all__ = ["NamePool", "build_pools", "corrupt_name", "normalise", "spelling_variant", "swap_day_month"]

# Nationality (ISO2) -> Faker locales whose person data fit it (the pool mixes them). Approximations
# are deliberate and documented: e.g. Uganda uses the Kenyan English locale, Venezuela the Colombian one.
LOCALES: dict[str, tuple[str, ...]] = {
    "NL": ("nl_NL",), "BE": ("nl_BE",), "DE": ("de_DE",), "FR": ("fr_FR",), "ES": ("es_ES",),
    "IT": ("it_IT",), "PT": ("pt_PT",), "PL": ("pl_PL",), "RO": ("ro_RO",), "BG": ("bg_BG",),
    "HU": ("hu_HU",), "SK": ("sk_SK",), "CZ": ("cs_CZ",), "LT": ("lt_LT",), "LV": ("lv_LV",),
    "EE": ("et_EE",), "HR": ("hr_HR",), "SI": ("sl_SI",), "UA": ("uk_UA",),
    "NG": ("yo_NG", "ig_NG", "en_NG"), "GH": ("tw_GH",), "UG": ("en_KE",), "CO": ("es_CO",),
    "VE": ("es_CO",), "DO": ("es_MX",), "BR": ("pt_BR",), "CN": ("zh_CN",), "VN": ("vi_VN",),
    "IN": ("en_IN",), "ID": ("id_ID",),
}
FALLBACK_LOCALES = ("en_GB",)

_CYRILLIC = dict(
    zip(
        "абвгґдеєжзиіїйклмнопрстуфхцчшщъьюяыэё",
        ["a", "b", "v", "h", "g", "d", "e", "ie", "zh", "z", "y", "i", "i", "i", "k", "l", "m", "n", "o", "p",
         "r", "s", "t", "u", "f", "kh", "ts", "ch", "sh", "shch", "a", "", "iu", "ia", "y", "e", "io"],
        strict=True,
    )
)


def _transliteration_table() -> dict[int, str]:
    table = {}
    for low, lat in _CYRILLIC.items():
        table[ord(low)] = lat
        up = low.upper()
        if len(up) == 1 and up != low:
            table[ord(up)] = lat.capitalize()
    return table


_TRANSLIT = _transliteration_table()


def transliterate(name: str) -> str:
    """Latin spelling of a Cyrillic name (simple table; other scripts pass through)."""
    if name.isascii():
        return name
    return name.translate(_TRANSLIT)


@dataclass(frozen=True)
class NamePool:
    """Given and family names for one nationality (object arrays; repeats keep name frequencies)."""

    given_female: np.ndarray
    given_male: np.ndarray
    family_female: np.ndarray
    family_male: np.ndarray


def _as_lists(values) -> tuple[list[str], np.ndarray | None]:
    """Names and (normalised) weights from a Faker tuple or weighted dict."""
    if isinstance(values, dict):
        names = list(values)
        weights = np.asarray(list(values.values()), dtype=float)
        return names, weights / weights.sum()
    return list(values), None


def _person_providers(locales: list[str]) -> dict[str, type]:
    """Faker's person `Provider` class of each locale.

    Importing any Faker module first runs `faker/__init__.py`, which imports every provider package
    of every locale to list the available locales (about 0.2 CPU-seconds, a fifth of the command's
    budget). The name lists need only `faker.providers` and the person providers, so in a process
    without other threads and without Faker loaded, the modules are imported under a bare `faker`
    package object whose `__init__` is not run, and all `faker` modules are dropped again afterwards:
    a later `import faker` loads the real package as usual.
    """
    names = [f"faker.providers.person.{locale}" for locale in locales]
    spec = importlib.util.find_spec("faker") if "faker" not in sys.modules else None
    if spec is None or threading.active_count() > 1 or not spec.submodule_search_locations:
        return {loc: importlib.import_module(name).Provider for loc, name in zip(locales, names, strict=True)}
    sys.modules["faker"] = importlib.util.module_from_spec(spec)  # the package, its __init__ not executed
    try:
        return {loc: importlib.import_module(name).Provider for loc, name in zip(locales, names, strict=True)}
    except ImportError:  # a provider that needs the real package: import it the ordinary way
        pass
    finally:
        for module in [m for m in sys.modules if m == "faker" or m.startswith("faker.")]:
            del sys.modules[module]
    return {loc: importlib.import_module(name).Provider for loc, name in zip(locales, names, strict=True)}


def _locale_lists(locale: str, provider: type | None = None) -> dict[str, object]:
    """The four name lists of one Faker locale (female/male given, female/male family)."""
    if provider is None:
        provider = _person_providers([locale])[locale]

    def attr(*names: str):
        for name in names:
            value = getattr(provider, name, None)
            if value:
                return value
        return None

    if locale == "zh_CN":
        given = provider.first_romanized_names
        return {"gf": given, "gm": given, "ff": provider.last_romanized_names, "fm": provider.last_romanized_names}
    if locale == "pl_PL":
        male = list(provider.male_last_names) + list(provider.unisex_last_names)
        female = [n[:-1] + "a" if n.endswith(("ski", "cki")) else n for n in provider.male_last_names]
        return {
            "gf": provider.first_names_female, "gm": provider.first_names_male,
            "ff": female + list(provider.unisex_last_names), "fm": male,
        }
    return {
        "gf": attr("first_names_female", "first_names"),
        "gm": attr("first_names_male", "first_names"),
        "ff": attr("last_names_female", "last_names"),
        "fm": attr("last_names_male", "last_names"),
    }


_LOCALE_NAMES: dict[str, dict[str, tuple[np.ndarray, np.ndarray | None]]] = {}  # cache per process


def _locale_names(locale: str) -> dict[str, tuple[np.ndarray, np.ndarray | None]]:
    """Per list key: the transliterated names (object array) and their weights (cached per process)."""
    if locale not in _LOCALE_NAMES:
        _load_locales([locale])
    return _LOCALE_NAMES[locale]


def _load_locales(locales) -> None:
    """Read the name lists of the locales not yet cached (all Faker imports in one go)."""
    todo = sorted(set(locales) - set(_LOCALE_NAMES))
    if not todo:
        return
    for locale, provider in _person_providers(todo).items():
        out = {}
        for key, values in _locale_lists(locale, provider).items():
            names, weights = _as_lists(values)
            out[key] = (np.array([transliterate(name) for name in names], dtype=object), weights)
        _LOCALE_NAMES[locale] = out


def _draw(names: np.ndarray, weights: np.ndarray | None, size: int, rng: np.random.Generator) -> np.ndarray:
    picked = rng.choice(len(names), size=size, p=weights)
    return names[picked]


def build_pools(nationalities: list[str], rng: np.random.Generator, *, size: int = 400) -> dict[str, NamePool]:
    """One name pool per nationality, drawn once per generator run.

    Args:
        nationalities: ISO2 codes (processed in sorted order, so the result is deterministic).
        rng: the run's Generator.
        size: names drawn (with replacement, by Faker's weights) per list.
    """
    pools: dict[str, NamePool] = {}
    _load_locales([loc for nat in set(nationalities) for loc in LOCALES.get(nat, FALLBACK_LOCALES)])
    for nat in sorted(set(nationalities)):
        lists = [_locale_names(loc) for loc in LOCALES.get(nat, FALLBACK_LOCALES)]
        parts = {}
        for key in ("gf", "gm", "ff", "fm"):
            per_locale = max(1, size // len(lists))
            parts[key] = np.concatenate([_draw(*lst[key], per_locale, rng) for lst in lists])
        pools[nat] = NamePool(parts["gf"], parts["gm"], parts["ff"], parts["fm"])
    return pools


# ASCII characters that are not letters or digits, deleted by `normalise` (ASCII text needs no decomposition)
_ASCII_DROP = str.maketrans("", "", "".join(chr(c) for c in range(128) if not chr(c).isalnum()))


@functools.lru_cache(maxsize=65536)
def normalise(text: str) -> str:
    """Lower-case letters and digits only, accents removed: 'Dürr-van Dijk' -> 'durrvandijk'."""
    if text.isascii():  # the same rule, without decomposing: most names are plain ASCII
        return text.lower().translate(_ASCII_DROP)
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed.lower() if ch.isalnum() and not unicodedata.combining(ch))


@functools.lru_cache(maxsize=65536)
def _strip_accents(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return unicodedata.normalize("NFC", "".join(ch for ch in decomposed if not unicodedata.combining(ch)))


@functools.lru_cache(maxsize=65536)
def _swappable(name: str) -> tuple[int, ...]:
    """Positions i where name[i] and name[i + 1] are distinct letters (names repeat, so cached)."""
    return tuple(i for i in range(len(name) - 1) if name[i].isalpha() and name[i + 1].isalpha()
                 and name[i].lower() != name[i + 1].lower())


def corrupt_name(name: str, u: float) -> str:
    """A variant whose normalised form differs: swap two adjacent distinct letters (u picks where)."""
    letters = _swappable(name)
    if not letters:
        return name + "e"
    i = letters[int(u * len(letters)) % len(letters)]
    return name[:i] + name[i + 1] + name[i] + name[i + 2:]


def spelling_variant(name: str, u: float) -> str:
    """A realistic spelling variant of a name (u in [0, 1) picks the rule and position).

    Rules: accents dropped (harmless after normalisation), a doubled letter written once or a letter
    doubled, 'ij'/'y' and 'ie'/'i' confusions, a Dutch prefix dropped ('van Dijk' -> 'Dijk'), two
    letters swapped. The result always differs from the input.
    """
    rule = int(u * 5)
    frac = u * 5 - rule
    if rule == 0 and _strip_accents(name) != name:
        return _strip_accents(name)
    if rule == 1:
        for i in range(len(name) - 1):
            if name[i] == name[i + 1] and name[i].isalpha():
                return name[:i] + name[i + 1:]
        i = min(len(name) - 1, 1 + int(frac * max(1, len(name) - 1)))
        if name and name[i].isalpha():
            return name[:i] + name[i] + name[i:]
    if rule == 2:
        for old, new in (("ij", "y"), ("y", "ij"), ("ie", "i"), ("ou", "oe"), ("ph", "f"), ("c", "k")):
            if old in name:
                return name.replace(old, new, 1)
    if rule == 3 and " " in name.strip():
        return name.strip().split(" ")[-1]
    return corrupt_name(name, frac)


def swap_day_month(iso_date: str) -> str:
    """'2001-03-07' -> '2001-07-03' (only meaningful when the day is 12 or less)."""
    return f"{iso_date[:4]}-{iso_date[8:10]}-{iso_date[5:7]}"
