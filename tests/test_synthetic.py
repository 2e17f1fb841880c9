"""Tests for the synthetic generator: calibration, determinism, schemas, ground truth, noise, scenario errors."""

from __future__ import annotations

from itertools import combinations

import numpy as np
import pandas as pd
import pytest
import yaml

import synthetic
from sandbox.scenario import ScenarioError, load_scenario, scenario_dir
from synthetic import vocab
from synthetic.calibration import NL_TARGETS, calibration_summary
from synthetic.keys import identity_string, person_key
from synthetic.schema import REQUIRED_COLUMNS

SCENARIOS = ("nl-baseline", "horticulture-labour", "minors-criminal")
# fields that are '' by nature for some victims (ongoing exploitation, no referral, no indicator recorded)
NATURALLY_EMPTY = {"exploitation_end", "means_of_control", "ilo_indicators", "referral_from"}


@pytest.fixture(scope="module")
def nl():
    return load_scenario("nl-baseline")


@pytest.fixture(scope="module")
def data(nl):
    return synthetic.generate(nl.organisations, nl.generator, seed=3)


# ----------------------------------------------------------------------------- calibration


def test_nl_baseline_reproduces_the_dutch_figures_over_ten_seeds(nl):
    out = calibration_summary(nl.organisations, nl.generator, seeds=range(10))
    lo, hi = NL_TARGETS["registered"]
    assert lo <= out["registered"] <= hi
    lo, hi = NL_TARGETS["multi_list_share"]
    assert lo <= out["multi_list_share"] <= hi
    lo, hi = NL_TARGETS["records_per_registered"]
    assert lo <= out["records_per_registered"] <= hi
    for org, target in NL_TARGETS["share"].items():
        assert abs(out["share"][org] - target) <= NL_TARGETS["share_tolerance"], (org, out["share"][org])
    assert out["share"]["shelters"] < 0.07  # "the small rest"


@pytest.mark.parametrize("name", SCENARIOS)
def test_every_scenario_loads_and_generates_valid_files(name, tmp_path):
    s = load_scenario(name)
    d = synthetic.generate(s.organisations, s.generator, seed=1, population=2000)
    paths = synthetic.write_dataset(d, tmp_path)
    assert [p.name for p in paths] == [f"{o}.csv" for o in s.org_ids] + ["ground_truth.json"]
    for org in s.org_ids:
        df = synthetic.read_records(tmp_path / f"{org}.csv", org_id=org)
        assert len(df) == d.ground_truth["records_per_org"][org] > 0
    assert s.disclosure.min_cell == 10


def test_horticulture_is_about_labour_and_minors_scenario_about_minors():
    h = load_scenario("horticulture-labour")
    m = load_scenario("minors-criminal")
    th = synthetic.generate(h.organisations, h.generator, seed=2).ground_truth["marginals"]["registered"]
    tm = synthetic.generate(m.organisations, m.generator, seed=2).ground_truth["marginals"]["registered"]
    assert th["sector"]["agriculture_horticulture"] > 0.3 * sum(th["sector"].values())
    assert tm["minor_at_exploitation"]["1"] > tm["minor_at_exploitation"].get("0", 0)
    assert tm["primary_form"]["criminal"] > tm["primary_form"]["sexual"]


# ----------------------------------------------------------------------------- determinism


def test_same_scenario_and_seed_give_byte_identical_files(nl, tmp_path):
    a = synthetic.write_dataset(synthetic.generate(nl.organisations, nl.generator, seed=11), tmp_path / "a")
    b = synthetic.write_dataset(synthetic.generate(nl.organisations, nl.generator, seed=11), tmp_path / "b")
    assert [p.name for p in a] == [p.name for p in b]
    for pa, pb in zip(a, b, strict=True):
        assert pa.read_bytes() == pb.read_bytes(), pa.name
    c = synthetic.write_dataset(synthetic.generate(nl.organisations, nl.generator, seed=12), tmp_path / "c")
    assert a[0].read_bytes() != c[0].read_bytes()


def test_overrides_of_population_and_year(nl):
    d = synthetic.generate(nl.organisations, nl.generator, seed=1, population=800, year=2021)
    assert d.ground_truth["population"] == len(d.population) == 800
    assert d.ground_truth["year"] == 2021
    assert all(df["registration_date"].str.startswith("2021-").all() for df in d.records.values())
    empty = synthetic.generate(nl.organisations, nl.generator, seed=1, population=0)
    assert empty.ground_truth["registered"] == 0 and all(len(df) == 0 for df in empty.records.values())


# ----------------------------------------------------------------------------- schemas


def test_files_are_marked_synthetic_and_readable_as_strings(data, tmp_path):
    synthetic.write_dataset(data, tmp_path)
    for org in data.records:
        text = (tmp_path / f"{org}.csv").read_text(encoding="utf-8")
        header = text.splitlines()[0]
        assert not header.startswith("#") and header.split(",")[:5] == list(REQUIRED_COLUMNS[:5])
        df = pd.read_csv(tmp_path / f"{org}.csv", dtype=str, keep_default_na=False)
        assert (df["synthetic"] == "SYNTHETIC").all()
        assert df["person_key"].str.fullmatch(r"[0-9a-f]{16}").all()
        assert df["person_key"].is_unique
        assert df.equals(data.records[org])


def test_each_organisation_holds_exactly_its_own_fields(nl, data):
    for org in nl.organisations:
        df = data.records[org.id]
        expected = set(REQUIRED_COLUMNS) | set(org.fields)
        assert set(df.columns) == expected, org.id
        assert all(df[c].map(type).eq(str).all() for c in df.columns)


def test_missingness_rates_follow_each_organisation_schema(nl):
    d = synthetic.generate(nl.organisations, nl.generator, seed=5, population=20_000)
    for org in nl.organisations:
        df = d.records[org.id]
        for field, rate in org.missing.items():
            if field in NATURALLY_EMPTY:
                continue
            blank = (df[field] == "").mean()
            assert abs(blank - rate) <= 0.04 + 0.5 / len(df) ** 0.5, (org.id, field, blank, rate)
        for field in set(org.fields) - set(org.missing) - NATURALLY_EMPTY:
            assert (df[field] != "").all(), (org.id, field)
    nla, police = d.records["nla"], d.records["police"]
    assert "region" not in nla.columns
    assert (nla["age"] == "").mean() > 0.7  # NLA rarely knows age
    assert (police["sector"] == "").mean() > 0.6  # police rarely record the labour sector
    for org in ("police", "care_coordination", "shelters", "fairwork"):
        assert (d.records[org]["age"] != "").mean() > 0.8, org


def test_values_follow_the_code_lists(data):
    for df in data.records.values():
        synthetic.validate_records(df, source="x.csv")  # raises on any violation
        forms = df["form"].str.split(";").explode()
        assert forms.isin(vocab.FORMS).all()


# ----------------------------------------------------------------------------- ground truth


def test_capture_patterns_match_a_recount_from_the_population(data, nl):
    truth = data.ground_truth
    pop = data.population
    recount = pop.loc[pop["lists"] != "", "lists"].value_counts()
    got = {";".join(p["lists"]): p["count"] for p in truth["capture_patterns"]}
    assert got == {k: int(v) for k, v in recount.items()}
    assert truth["registered"] == sum(got.values()) == int((pop["lists"] != "").sum())
    for org in nl.org_ids:
        on_list = sum(p["count"] for p in truth["capture_patterns"] if org in p["lists"])
        assert on_list == truth["records_per_org"][org] == len(data.records[org])
    keys = [tuple(nl.org_ids.index(o) for o in p["lists"]) for p in truth["capture_patterns"]]
    assert keys == sorted(keys)
    assert truth["population"] == len(pop) == 5000
    assert truth["scenario_orgs"] == nl.org_ids and truth["seed"] == 3


def test_records_point_back_to_the_true_victims(data):
    pop = data.population.set_index("person_key")
    for org, df in data.records.items():
        on = pop.loc[df["person_key"]]
        assert on["lists"].str.split(";").map(lambda lists, org=org: org in lists).all()
        known = df["sex"] != "" if "sex" in df else None
        if known is not None:
            assert (on["sex"].astype(str).to_numpy()[known] == df.loc[known, "sex"].to_numpy()).all()


def test_lists_are_positively_dependent_through_referrals(nl):
    d = synthetic.generate(nl.organisations, nl.generator, seed=8, population=50_000)
    on = pd.DataFrame({o: d.population["lists"].str.split(";").map(lambda s, o=o: o in s) for o in nl.org_ids})
    n = len(on)
    pc = on["police"] & on["care_coordination"]
    assert pc.sum() > 2 * on["police"].mean() * on["care_coordination"].mean() * n  # vs independence
    referred = d.records["care_coordination"]["referral_from"]
    assert set(referred.unique()) <= {"", "police", "kmar"}
    assert (referred == "police").sum() > 0
    assert d.records["nla"]["referral_from"].eq("fairwork").sum() > 0


def test_marginals_sum_to_population(data):
    m = data.ground_truth["marginals"]
    assert sum(m["population"]["sex"].values()) == data.ground_truth["population"]
    assert sum(m["registered"]["primary_form"].values()) == data.ground_truth["registered"]
    assert sum(m["population"]["form"].values()) >= data.ground_truth["population"]  # several forms allowed


# ----------------------------------------------------------------------------- identity and linkage


def test_person_key_is_hmac_of_the_normalised_true_identity(data, nl):
    pop = data.population
    row = pop[pop["person_key"] != ""].iloc[0]
    ident = identity_string(row["given_name"], row["family_name"], str(row["birth_date"].date()),
                            str(row["nationality"]))
    assert person_key(ident, nl.generator.linkage_secret) == row["person_key"]
    assert person_key(ident, "another-secret") != row["person_key"]
    assert identity_string("Éva", "van der Berg", "1990-01-02", "nl") == "eva|vanderberg|1990-01-02|NL"


def test_identity_noise_is_present_but_keys_still_link(nl):
    d = synthetic.generate(nl.organisations, nl.generator, seed=4, population=20_000)
    pop = d.population.set_index("person_key")
    police = d.records["police"]
    truth = pop.loc[police["person_key"]]
    name_differs = (police["family_name"].to_numpy() != truth["family_name"].to_numpy()) | (
        police["given_name"].to_numpy() != truth["given_name"].to_numpy())
    assert 0.02 < name_differs.mean() < 0.15
    true_birth = truth["birth_date"].dt.strftime("%Y-%m-%d").to_numpy()
    shown = police["birth_date"].to_numpy()
    swapped = (shown != "") & (shown != true_birth)
    assert swapped.sum() > 0
    s = shown[swapped][0]
    t = true_birth[swapped][0]
    assert (s[5:7], s[8:10]) == (t[8:10], t[5:7])  # day and month swapped
    assert (shown == "").mean() > 0.02  # missing birth dates
    # names come from the Faker locale of the nationality (the true names, before noise)
    from faker.providers.person.de_DE import Provider as German
    from faker.providers.person.nl_NL import Provider as Dutch

    assert set(pop.loc[pop["nationality"] == "NL", "family_name"]) <= set(Dutch.last_names)
    assert set(pop.loc[pop["nationality"] == "DE", "given_name"]) <= set(German.first_names)


def test_key_noise_breaks_some_links(nl):
    noisy = nl.generator.model_copy(update={"key_noise": 0.2})
    clean = synthetic.generate(nl.organisations, nl.generator, seed=6)
    dirty = synthetic.generate(nl.organisations, noisy, seed=6)
    true_keys = set(clean.population["person_key"]) - {""}
    assert all(set(df["person_key"]) <= true_keys for df in clean.records.values())
    broken = sum((~df["person_key"].isin(true_keys)).sum() for df in dirty.records.values())
    total = dirty.ground_truth["records_total"]
    assert 0.15 < broken / total < 0.25
    assert sum(dirty.ground_truth["key_corrupted_per_org"].values()) == broken
    for df in dirty.records.values():
        assert df["person_key"].is_unique
    # naive linkage on keys now finds fewer people on two or more lists
    def linked_multi(d):
        keys = pd.concat([df["person_key"] for df in d.records.values()])
        return int((keys.value_counts() >= 2).sum())
    assert linked_multi(dirty) < linked_multi(clean)


# ----------------------------------------------------------------------------- scenario errors


def _write_variant(tmp_path, change) -> str:
    raw = yaml.safe_load((scenario_dir() / "nl-baseline.yaml").read_text(encoding="utf-8"))
    change(raw)
    path = tmp_path / "broken.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return str(path)


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        (lambda r: r["generator"].update(colour="red"), "generator.colour", "unknown key"),
        (lambda r: r["organisations"][0]["capture"].update(base=1.5), "organisations.0.capture.base",
         "less than or equal to 1"),
        (lambda r: r["generator"].update(population=-5), "generator.population", "greater than or equal to 0"),
        (lambda r: r["generator"].update(key_noise=-0.1), "generator.key_noise", "greater than or equal to 0"),
        (lambda r: r["organisations"][0]["referrals"][0].update(to="ghost"), "organisations.0.referrals.0.to",
         "unknown organisation 'ghost'"),
        (lambda r: r["organisations"][1]["missing"].update(sector=0.5), "organisations.1", "not in fields"),
        (lambda r: r["generator"]["sector"]["by_form"]["sexual"].update(sex_moon=0.1), "generator", "sex_moon"),
        (lambda r: r["generator"]["female_share"]["by_form"].update(sexual=2), "generator.female_share.by_form.sexual",
         "less than or equal to 1"),
        (lambda r: r["organisations"][2].update(fields=["region", "shoe_size"]), "organisations.2", "shoe_size"),
        (lambda r: r["disclosure"].update(min_cell=-1), "disclosure.min_cell", "greater than or equal to 0"),
        (lambda r: r["disclosure"].update(min_cell=2.5), "disclosure.min_cell", "valid integer"),
        (lambda r: r["disclosure"].update(min_cell=True), "disclosure.min_cell", "valid integer"),
    ],
)
def test_bad_scenarios_give_one_clear_error_naming_file_and_field(tmp_path, change, field, words):
    path = _write_variant(tmp_path, change)
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    message = str(info.value)
    assert "broken.yaml" in message
    assert field in message
    assert words in message


def test_generate_rejects_unknown_referral_targets_directly(nl):
    orgs = [o for o in nl.organisations if o.id != "care_coordination"]
    with pytest.raises(ValueError, match="unknown organisation 'care_coordination'"):
        synthetic.generate(orgs, nl.generator, seed=1)


def test_default_params_equal_the_baseline_file(nl):
    assert synthetic.GeneratorParams() == nl.generator


def test_subsets_of_lists_are_consistent(data, nl):
    # every pair count from the patterns equals the number of shared true keys
    keys = {o: set(df["person_key"]) for o, df in data.records.items()}
    for a, b in combinations(nl.org_ids, 2):
        from_patterns = sum(p["count"] for p in data.ground_truth["capture_patterns"]
                            if a in p["lists"] and b in p["lists"])
        assert from_patterns == len(keys[a] & keys[b])


def test_population_table_has_the_hidden_attributes(data):
    pop = data.population
    for col in ("sex", "age", "minor_at_exploitation", "nationality", "residence_status", "form", "sector",
                "recruitment", "means_of_control", "ilo_indicators", "region", "municipality",
                "exploitation_start", "exploitation_end", "trafficker_count", "trafficker_nationality",
                "trafficker_relation", "lists", "person_key"):
        assert col in pop.columns, col
    assert pop["age"].between(12, 99).all()
    assert (pop.loc[pop["minor_at_exploitation"] == 1, "age"] < 30).all()
    assert (pop["exploitation_start"] < pop["reference_date"]).all()
    assert np.isin(pop["region"].astype(str), vocab.REGIONS).all()
