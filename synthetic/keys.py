"""The linkage key: a keyed-hash pseudonym of a person's normalised identity.

person_key = first 16 hex characters (64 bits) of HMAC-SHA256(secret, "given|family|YYYY-MM-DD|NL"),
with names normalised (lower case, accents and punctuation removed). Organisations that share the
workshop secret compute the same key for the same person without exchanging names; a misspelt name
or a swapped birth date gives a different key – which is how linkage errors arise.
"""

from __future__ import annotations

import hashlib
import hmac

import numpy as np

from synthetic.names import normalise

__all__ = ["identity_string", "person_key", "person_keys"]

KEY_HEX_CHARS = 16


def identity_string(given: str, family: str, birth_date: str, nationality: str) -> str:
    """The normalised identity that is hashed: 'jan|devries|1990-01-31|NL'."""
    return f"{normalise(given)}|{normalise(family)}|{birth_date}|{nationality.upper()}"


def person_key(identity: str, secret: str) -> str:
    """16 lowercase hex characters of HMAC-SHA256(secret, identity)."""
    digest = hmac.new(secret.encode("utf-8"), identity.encode("utf-8"), hashlib.sha256).hexdigest()
    return digest[:KEY_HEX_CHARS]


def person_keys(given: np.ndarray, family: np.ndarray, birth_dates: np.ndarray, nationality: np.ndarray,
                secret: str) -> np.ndarray:
    """Keys for arrays of identities (birth dates as 'YYYY-MM-DD' strings); names normalised once each."""
    cache: dict[str, str] = {}

    def norm(name: str) -> str:
        out = cache.get(name)
        if out is None:
            out = cache[name] = normalise(name)
        return out

    base = hmac.new(secret.encode("utf-8"), digestmod=hashlib.sha256)  # keyed once, copied per identity
    out = []
    for g, f, b, n in zip(given, family, birth_dates, nationality, strict=True):
        h = base.copy()
        h.update(f"{norm(g)}|{norm(f)}|{b}|{n}".encode())
        out.append(h.hexdigest()[:KEY_HEX_CHARS])
    return np.array(out, dtype=object)
