"""A small, seeded SYNTHETIC dataset for the views: tests and the pages' "run it here" button.

The project's full generator (`mpc-sandbox generate`) is preferred when it is available; this module
is a tiny stand-in that writes one CSV per organisation with the columns the views need (form,
region, nationality). Every record is marked SYNTHETIC. Nothing here is calibrated to real figures.
"""

from __future__ import annotations

import hashlib
import random
from pathlib import Path

import pandas as pd

from synthetic import vocab

__all__ = ["make_dataset"]

# A skewed list, so that some nationalities are rare in some regions (the disclosure playground needs that).
_NATIONALITIES = ("NL",) * 8 + ("PL", "RO", "BG") * 2 + ("UA", "NG", "VN", "BR", "ER", "DE", "SY", "CO")
_FORMS = ("sexual",) * 4 + ("labour",) * 3 + ("criminal",) * 2 + ("other", "sexual;labour", "labour;criminal")


def make_dataset(out_dir: str | Path, orgs: list[str], *, seed: int = 1, records_per_org: int = 30) -> Path:
    """Write `<org>.csv` for every organisation into out_dir and return the folder."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    for i, org in enumerate(orgs):
        rows = []
        n = max(1, records_per_org + rng.randint(-records_per_org // 4, records_per_org // 4))
        for r in range(n):
            key = hashlib.sha256(f"demo-{seed}-{org}-{r}".encode()).hexdigest()[:16]
            rows.append(
                {
                    "record_id": f"{org[:3].upper()}-{r + 1:04d}",
                    "person_key": key,
                    "org": org,
                    "registration_date": f"2024-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
                    "form": rng.choice(_FORMS),
                    "sex": rng.choice(vocab.SEXES[:2]),
                    "age": str(rng.randint(16, 60)),
                    "nationality": rng.choice(_NATIONALITIES),
                    # region drawn with a per-organisation tilt, so regions differ in size
                    "region": vocab.REGIONS[
                        min(len(vocab.REGIONS) - 1, int(rng.expovariate(0.35 + 0.05 * i)))
                    ],
                    "synthetic": "SYNTHETIC",
                }
            )
        pd.DataFrame(rows).to_csv(out / f"{org}.csv", index=False)
    return out
