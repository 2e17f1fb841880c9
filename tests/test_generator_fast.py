"""The generator's fast path against slow, independent references.

The command `mpc-sandbox generate` writes its files without pandas (a join-based CSV writer), counts the
ground truth from integer codes, hashes keys in one batch and reads Faker's name lists without running
`faker/__init__`. Each shortcut is checked here against a reference that shares no code with it: the
`csv` module and pandas' `to_csv`, a recount from the population table with pandas `value_counts`, one
`hmac.new` per identity, the NFKD rule written out, and Faker imported the ordinary way.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import json
import subprocess
import sys
import unicodedata
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import synthetic
from sandbox.scenario import load_scenario
from synthetic import io as synthetic_io
from synthetic import names, truth, vocab

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def nl():
    return load_scenario("nl-baseline")


@pytest.fixture(scope="module")
def data(nl):
    return synthetic.generate(nl.organisations, nl.generator, seed=1, population=50_000)


# ----------------------------------------------------------------------------- CSV writer


TRICKY = ["plain", "", "Bourgondië, van", 'say "hi"', '", "', " leading space", "trailing ", "ünïcödé", ";a;b",
          "x,y,z", "'quoted'", "tab\there"]


def _reference_csv(columns: dict[str, list]) -> str:
    buf = io.StringIO(newline="")
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(list(columns))
    writer.writerows(zip(*columns.values(), strict=True))
    return buf.getvalue()


@pytest.mark.parametrize("extra", [None, "a\nb", "a\rb", "nul\0byte"])
def test_csv_writer_gives_the_csv_module_bytes(tmp_path, extra):
    """Fields with commas and quotes take the fast path; line breaks and NUL fall back to csv.writer."""
    rng = np.random.default_rng(0)
    values = TRICKY + ([extra] if extra else [])
    columns = {f"c{j}": [values[i] for i in rng.integers(0, len(values), 300)] for j in range(4)}
    columns["c,odd"] = ["x"] * 300  # a header that needs quotes
    path = tmp_path / "out.csv"
    synthetic_io.write_columns({k: np.array(v, dtype=object) for k, v in columns.items()}, path)
    assert path.read_bytes() == _reference_csv(columns).encode("utf-8")
    back = pd.read_csv(path, dtype=str, keep_default_na=False, na_filter=False)
    if extra is None:  # (pandas reads a lone '\r' inside quotes differently; csv's bytes are the contract)
        assert back.to_dict("list") == columns


def test_csv_writer_handles_empty_files_and_one_column(tmp_path):
    for columns in ({"a": [], "b": []}, {"only": ["", "x", ""]}):
        path = tmp_path / "f.csv"
        synthetic_io.write_columns(columns, path)
        assert path.read_bytes() == _reference_csv(columns).encode("utf-8")


def test_written_files_equal_pandas_to_csv_of_the_records(data, tmp_path):
    """The files of the fast writer are byte for byte what pandas wrote before (to_csv of each DataFrame)."""
    synthetic.write_dataset(data, tmp_path)
    assert any("," in v for df in data.records.values() for v in df.get("family_name", []))  # quoting is exercised
    for org, frame in data.records.items():
        expected = frame.to_csv(index=False, lineterminator="\n").encode("utf-8")
        assert (tmp_path / f"{org}.csv").read_bytes() == expected, org


# ----------------------------------------------------------------------------- ground truth


def _recount(pop: pd.DataFrame, rows: np.ndarray | None) -> dict[str, dict[str, int]]:
    """Marginals recounted from the population table's values with pandas (no codes, no generator helpers)."""
    if rows is not None:
        pop = pop[rows]
    out = {}
    for col in ("primary_form", "sex", "minor_at_exploitation", "nationality", "residence_status", "sector",
                "recruitment", "region", "trafficker_relation"):
        counts = pop[col].astype(str).value_counts()
        out[col] = {k: int(v) for k, v in sorted(counts.items()) if v}
    for col in ("form", "means_of_control", "ilo_indicators"):
        items = pop[col].astype(str).str.split(";").explode()
        counts = items[items != ""].value_counts()
        out[col] = {k: int(v) for k, v in sorted(counts.items())}
    bands = pd.cut(pop["age"], bins=[-1, 17, 22, 29, 39, 49, 200],
                   labels=["0-17", "18-22", "23-29", "30-39", "40-49", "50+"]).astype(str).value_counts()
    out["age_band"] = {k: int(v) for k, v in sorted(bands.items()) if v}
    groups = pop["nationality"].astype(str).map(vocab.nationality_group).value_counts()
    out["nationality_group"] = {k: int(v) for k, v in sorted(groups.items())}
    return out


def test_ground_truth_marginals_equal_a_recount_from_the_population_table(data):
    pop = data.population
    registered = (pop["lists"] != "").to_numpy()
    marginals = data.ground_truth["marginals"]
    assert marginals["population"] == _recount(pop, None)
    assert marginals["registered"] == _recount(pop, registered)
    # and the pandas path of synthetic.truth agrees with the code path
    assert truth.marginals(pop) == marginals["population"]


def test_ground_truth_counts_equal_the_files(data, tmp_path):
    synthetic.write_dataset(data, tmp_path)
    gt = json.loads((tmp_path / "ground_truth.json").read_text(encoding="utf-8"))
    for org, n in gt["records_per_org"].items():
        assert len(pd.read_csv(tmp_path / f"{org}.csv", dtype=str, keep_default_na=False)) == n
    keys = [set(pd.read_csv(tmp_path / f"{o}.csv", dtype=str)["person_key"]) for o in gt["records_per_org"]]
    assert gt["registered"] == len(set().union(*keys))  # key_noise is 0 in the baseline


# ----------------------------------------------------------------------------- keys and names


def _slow_normalise(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed.lower() if ch.isalnum() and not unicodedata.combining(ch))


def test_every_true_key_is_one_hmac_of_the_normalised_identity(data, nl):
    pop = data.population
    reg = pop[pop["person_key"] != ""]
    secret = nl.generator.linkage_secret.encode("utf-8")
    for row in reg.itertuples():
        ident = (f"{_slow_normalise(row.given_name)}|{_slow_normalise(row.family_name)}|"
                 f"{row.birth_date.date().isoformat()}|{row.nationality}")
        expected = hmac.new(secret, ident.encode("utf-8"), hashlib.sha256).hexdigest()[:16]
        assert row.person_key == expected


def test_normalise_fast_path_follows_the_nfkd_rule():
    samples = {"Dürr-van Dijk", "O'Brien", "de Vries", "JAN", "Ștefan", "Zoë", "123 abc", "a.b-c_d", "ǅemal", ""}
    for locale in {loc for locs in names.LOCALES.values() for loc in locs}:
        for values, _ in names._locale_names(locale).values():
            samples.update(values.tolist())
    assert len(samples) > 5_000
    for text in samples:
        assert names.normalise(text) == _slow_normalise(text), text


_SCRIPT = """
import sys, json
{pre}
import synthetic
from sandbox.scenario import load_scenario
s = load_scenario("nl-baseline")
synthetic.write_dataset(synthetic.generate(s.organisations, s.generator, seed=4, population=3000), sys.argv[1])
import faker
fake = faker.Faker("nl_NL")  # the real package loads after the name lists were read
loaded = {{m: m in sys.modules for m in ("pandas", "pyarrow")}}
print(json.dumps({{"faker": bool(fake.name()), **loaded}}))
"""


def test_faker_name_lists_are_the_same_with_or_without_faker_loaded(tmp_path):
    """Name lists read under a bare `faker` package equal those of the ordinary import, and Faker works after."""
    outs = {}
    for label, pre in (("bare", ""), ("ordinary", "import faker")):
        folder = tmp_path / label
        proc = subprocess.run([sys.executable, "-c", _SCRIPT.format(pre=pre), str(folder)], cwd=ROOT,
                              capture_output=True, text=True, timeout=300, check=False)
        assert proc.returncode == 0, proc.stderr
        outs[label] = json.loads(proc.stdout.strip().splitlines()[-1])
        assert outs[label]["faker"]
    for path in sorted((tmp_path / "bare").iterdir()):
        assert path.read_bytes() == (tmp_path / "ordinary" / path.name).read_bytes(), path.name
    # the generator and the writer never needed pandas or pyarrow
    assert not outs["bare"]["pandas"] and not outs["bare"]["pyarrow"]


def test_the_generate_command_imports_neither_pandas_nor_the_mpc_runner(tmp_path):
    code = ("import sys; from sandbox import cli;"
            "rc = cli.main(['generate', '--population', '500', '--out', sys.argv[1]]);"
            "heavy = ('pandas', 'pyarrow', 'scipy', 'sandbox.mpc.runner', 'faker');"
            "print(sorted(m for m in heavy if m in sys.modules))")
    proc = subprocess.run([sys.executable, "-c", code, str(tmp_path / "out")], cwd=ROOT, capture_output=True,
                          text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().splitlines()[-1] == "[]"
    assert (tmp_path / "out" / "police.csv").is_file()


def test_user_errors_of_modules_not_imported_are_still_clean_errors(tmp_path):
    """`generate` names its errors without importing the runner: a bad scenario is exit code 2, no traceback."""
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\n", encoding="utf-8")
    proc = subprocess.run([sys.executable, "-m", "sandbox.cli", "generate", "--scenario", str(bad), "--out",
                           str(tmp_path / "o")], cwd=ROOT, capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 2 and proc.stderr.startswith("error: ") and "Traceback" not in proc.stderr
