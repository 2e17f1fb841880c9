"""Fuzzing bad input with hypothesis: every bad file or argument gives a clear, named error, never a crash.

* scenario files (mutated YAML, garbage bytes)   -> load_scenario raises ScenarioError naming the file
* organisation CSVs (mutated frames, raw bytes)  -> read_own_records raises InputError naming the file
                                                    (and the row and field of a single bad cell)
* prepared values out of range                   -> check_range refuses them; a real run with a count
                                                    beyond 2^20 fails naming the file, before any share
* `python -m sandbox` argument lists             -> exit 0 or 2, never a traceback
* the Run page with a broken data folder         -> a clear st.error, no exception

CI runs a few hundred examples in total. The benchmark job runs more with FUZZ_EXAMPLES=1000
(then every fuzz test runs that many): `FUZZ_EXAMPLES=1000 pytest tests/test_fuzz.py`.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import string
import tempfile
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from sandbox.mpc.inputs import InputError, check_range, read_own_records
from sandbox.scenario import ScenarioError, load_scenario, scenario_dir
from synthetic import vocab

ROOT = Path(__file__).resolve().parents[1]
FUZZ_EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "0") or 0)
settings.register_profile("mpc-fuzz", deadline=None, derandomize=False, print_blob=True,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture,
                                                 HealthCheck.data_too_large, HealthCheck.filter_too_much])
PROFILE = settings.get_profile("mpc-fuzz")


def examples(ci: int) -> settings:
    """`ci` examples in CI; FUZZ_EXAMPLES (e.g. 1000) for the benchmark job."""
    return settings(PROFILE, max_examples=FUZZ_EXAMPLES or ci)


WORK = Path(tempfile.mkdtemp(prefix="fuzz-"))
_counter = iter(range(10**9))


def _fresh(suffix: str) -> Path:
    return WORK / f"case{next(_counter)}{suffix}"


# ----------------------------------------------------------------------------- scenario files

BASE_SCENARIO = yaml.safe_load((scenario_dir() / "nl-baseline.yaml").read_text(encoding="utf-8"))

junk_values = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-10**12, max_value=10**12),
    st.floats(allow_nan=True, allow_infinity=True), st.sampled_from([-1, -0.5, 1.5, 2, 1e308, -1e308, 0]),
    st.text(max_size=20), st.sampled_from(["", "yes", "1.5", "-3", "police", "labour", "{}", "[]"]),
    st.lists(st.integers(-5, 5), max_size=3), st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
)


def _paths(obj, prefix=()):
    """Every (path, value) of a nested YAML document."""
    yield prefix, obj
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from _paths(v, (*prefix, k))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            yield from _paths(v, (*prefix, i))


ALL_PATHS = [p for p, _ in _paths(BASE_SCENARIO) if p]


@st.composite
def mutated_scenarios(draw):
    import copy

    doc = copy.deepcopy(BASE_SCENARIO)
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(ALL_PATHS))
        parent = doc
        try:
            for key in path[:-1]:
                parent = parent[key]
            last = path[-1]
            parent[last]  # noqa: B018 - the path may be gone after an earlier mutation
        except (KeyError, IndexError, TypeError):
            continue
        action = draw(st.sampled_from(["replace", "delete", "unknown_key", "negate"]))
        if action == "replace":
            parent[last] = draw(junk_values)
        elif action == "delete":
            del parent[last]
        elif action == "unknown_key" and isinstance(parent, dict):
            parent[draw(st.text(string.ascii_lowercase + "_", min_size=1, max_size=12))] = draw(junk_values)
        elif action == "negate" and isinstance(parent[last], int | float) and not isinstance(parent[last], bool):
            parent[last] = -parent[last] - draw(st.sampled_from([0, 1, 0.5, 10**9]))
    return doc


def _assert_scenario_outcome(path: Path) -> None:
    try:
        load_scenario(path)
    except ScenarioError as exc:
        assert str(path) in str(exc), f"the message does not name the file: {exc}"
    # Anything else (TypeError, KeyError, RecursionError, ...) fails the test with its traceback.


@examples(80)
@given(mutated_scenarios())
def test_mutated_scenario_gives_scenario_error_naming_the_file(doc):
    path = _fresh(".yaml")
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    _assert_scenario_outcome(path)


BASE_TEXT = (scenario_dir() / "nl-baseline.yaml").read_bytes()


@examples(40)
@given(st.one_of(
    st.binary(max_size=400),
    st.integers(0, len(BASE_TEXT)).map(lambda n: BASE_TEXT[:n]),  # truncated files
    st.tuples(st.integers(0, len(BASE_TEXT) - 1), st.binary(min_size=1, max_size=8)).map(
        lambda t: BASE_TEXT[:t[0]] + t[1] + BASE_TEXT[t[0] + len(t[1]):]),  # flipped bytes
    st.sampled_from([b"", b"\x00\x01", b"- a\n- b\n", b"42", b"name: [", b"\xff\xfe", b"a: &x [*x]",
                     b"organisations: !!python/object:os.system {}", b"[" * 50 + b"]" * 50]),
))
def test_garbage_scenario_bytes_give_scenario_error(data):
    path = _fresh(".yaml")
    path.write_bytes(data)
    _assert_scenario_outcome(path)


def test_deeply_nested_yaml_gives_scenario_error(tmp_path):
    path = tmp_path / "nested.yaml"
    path.write_bytes(b"[" * 5000)
    _assert_scenario_outcome(path)


def test_scenario_fuzz_covers_the_listed_cases(tmp_path):
    """Deterministic anchors: each listed kind of mistake is refused with file and field."""
    import copy

    cases = {
        "wrong type": (("disclosure", "min_cell"), "many"),
        "probability above 1": (("organisations", 0, "missing", "age"), 1.5),
        "negative size": (("generator", "population"), -5),
    }
    for label, (path, value) in cases.items():
        doc = copy.deepcopy(BASE_SCENARIO)
        target = doc
        for k in path[:-1]:
            target = target.setdefault(k, {}) if isinstance(k, str) else target[k]
        target[path[-1]] = value
        f = tmp_path / f"{label.replace(' ', '_')}.yaml"
        f.write_text(yaml.safe_dump(doc), encoding="utf-8")
        with pytest.raises(ScenarioError) as err:
            load_scenario(f)
        assert str(f) in str(err.value) and str(path[-1]) in str(err.value), (label, str(err.value))
    doc = copy.deepcopy(BASE_SCENARIO)
    doc["organisations"][0]["colour_scheme"] = "x"
    del doc["title"]
    f = tmp_path / "unknown_and_missing.yaml"
    f.write_text(yaml.safe_dump(doc), encoding="utf-8")
    with pytest.raises(ScenarioError) as err:
        load_scenario(f)
    assert "unknown key" in str(err.value) and "title" in str(err.value)


# ----------------------------------------------------------------------------- organisation CSVs

def _valid_frame(n: int = 6) -> pd.DataFrame:
    return pd.DataFrame({
        "record_id": [f"police-{i}" for i in range(n)],
        "person_key": [f"{(i + 1) * 7919:016x}" for i in range(n)],
        "org": ["police"] * n,
        "registration_date": ["2024-03-01"] * n,
        "form": (["sexual", "labour;criminal", "other", "labour", "sexual", "criminal"] * (n // 6 + 1))[:n],
        "age": [str(20 + i) for i in range(n)],
        "nationality": ["NL"] * n,
        "synthetic": ["SYNTHETIC"] * n,
    })


text_junk = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=30)
cell_junk = st.one_of(
    text_junk, st.integers(-10**30, 10**30).map(str), st.floats().map(str),
    st.sampled_from(["", "nan", "NULL", "-1", "9" * 40, "1e9", " 5", "2024-02-30", "١٢", "sexual;", ";",
                     "SYNTHETIC ", "\u202e", "😀", "a\nb", '"', "\x00"]),
)
column_junk = st.one_of(text_junk.filter(lambda s: s.strip() != ""), st.sampled_from(["Unnamed: 0", "form ", "FORM"]))


@st.composite
def mutated_frames(draw):
    df = _valid_frame(draw(st.integers(1, 6)))
    for _ in range(draw(st.integers(1, 4))):
        action = draw(st.sampled_from(["cell", "cell", "drop", "rename", "add", "dup_row", "empty_rows"]))
        cols = list(df.columns)
        if action == "cell" and len(df):
            df.iat[draw(st.integers(0, len(df) - 1)), draw(st.integers(0, len(cols) - 1))] = draw(cell_junk)
        elif action == "drop" and cols:
            df = df.drop(columns=[draw(st.sampled_from(cols))])
        elif action == "rename" and cols:
            df = df.rename(columns={draw(st.sampled_from(cols)): draw(column_junk)})
        elif action == "add":
            df[draw(column_junk)] = draw(cell_junk)
        elif action == "dup_row" and len(df):
            df = pd.concat([df, df.iloc[[draw(st.integers(0, len(df) - 1))]]], ignore_index=True)
        elif action == "empty_rows":
            df = df.head(0)
    return df


def _assert_input_outcome(path: Path) -> None:
    try:
        read_own_records(path)
    except InputError as exc:
        assert path.name in str(exc), f"the message does not name the file: {exc}"


@examples(100)
@given(mutated_frames())
def test_mutated_csv_gives_input_error_naming_the_file(df):
    path = _fresh(".csv")
    df.to_csv(path, index=False)
    _assert_input_outcome(path)


@examples(50)
@given(st.one_of(
    st.binary(max_size=500),
    st.text(max_size=300).map(lambda s: s.encode("utf-8", "surrogatepass")),
    st.sampled_from([b"", b"\n", b"record_id\n", b",,,\n,,,\n", b"\xef\xbb\xbf", b"\x00" * 50,
                     b"a,b\n1,2,3,4\n", b'"unterminated\n1,2', (",".join(vocab.REQUIRED_COLUMNS) + "\n").encode()]),
    st.binary(max_size=200).map(lambda b: _valid_frame().to_csv(index=False).encode() + b),
))
def test_garbage_csv_bytes_give_input_error(data):
    path = _fresh(".csv")
    path.write_bytes(data)
    _assert_input_outcome(path)


BAD_CELLS = {  # column -> values that must be refused by the schema
    "age": st.one_of(st.integers(-10**9, -1).map(str), st.integers(100, 10**40).map(str),
                     st.sampled_from(["abc", "1.5", "-0", "2 0"])),
    "person_key": st.one_of(st.text(max_size=15).filter(lambda s: s != ""), st.sampled_from(["ABCDEF0123456789"])),
    "registration_date": st.sampled_from(["2024-13-01", "2024-02-30", "01-03-2024", "yesterday", "2024-3-1"]),
    "form": st.text(min_size=1, max_size=12).filter(lambda s: not set(s.split(";")) <= set(vocab.FORMS)),
    "synthetic": st.text(min_size=1, max_size=12).filter(lambda s: s != "SYNTHETIC"),
    "nationality": st.sampled_from(["nl", "NLD", "N", "12", "ÑL"]),
}


@examples(60)
@given(st.sampled_from(sorted(BAD_CELLS)), st.integers(0, 5), st.data())
def test_one_bad_cell_is_named_by_file_row_and_field(column, row, data):
    value = data.draw(BAD_CELLS[column])
    assume("\x00" not in value and value.strip() == value and value != "")
    df = _valid_frame()
    df.loc[row, column] = value
    path = _fresh(".csv")
    df.to_csv(path, index=False)
    with pytest.raises(InputError) as err:
        read_own_records(path)
    msg = str(err.value)
    assert path.name in msg and f"row {row + 1}" in msg and f"field '{column}'" in msg, msg


def test_non_ascii_digits_are_refused_naming_the_file():
    """Arabic-Indic digits match the schema's `\\d` but not pandas' number parser (found by this fuzzer)."""
    df = _valid_frame()
    df.loc[2, "age"] = "١٢"
    path = _fresh(".csv")
    df.to_csv(path, index=False)
    with pytest.raises(InputError, match=path.name):
        read_own_records(path)


def test_non_ascii_digits_are_named_by_row_and_field():
    df = _valid_frame()
    df.loc[2, "age"] = "١٢"
    path = _fresh(".csv")
    df.to_csv(path, index=False)
    with pytest.raises(InputError, match=r"row 3, field 'age'"):
        read_own_records(path)


def test_missing_file_and_directory_are_input_errors(tmp_path):
    for path in (tmp_path / "absent.csv", tmp_path):
        with pytest.raises(InputError, match=path.name):
            read_own_records(path)


# ----------------------------------------------------------------------------- ranges

@examples(60)
@given(st.dictionaries(
    st.sampled_from(["counts", "hist", "keys"]),
    st.lists(st.one_of(st.integers(-2**70, 2**70), st.floats(), st.booleans(), st.none(), st.text(max_size=3),
                       st.lists(st.integers(-5, 2**21), max_size=3)), max_size=8),
    min_size=1, max_size=3))
def test_check_range_accepts_exactly_the_ints_in_range(inputs):
    def ok(v):
        if isinstance(v, list):
            return all(ok(x) for x in v)
        return isinstance(v, int) and 0 <= v < 2**20  # bool is an int: True/False are 1/0

    expected = all(ok(v) for vals in inputs.values() for v in vals)
    try:
        check_range(inputs, low=0, high=2**20, source="police.csv")
        assert expected
    except InputError as exc:
        assert not expected
        assert "police.csv" in str(exc) and "refused before secret-sharing" in str(exc)


@pytest.mark.mpc
def test_count_beyond_2_pow_20_is_refused_before_any_share(scenario, tmp_path):
    """A real run: police's count of 'sexual' records is 2^20 + 1, one more than the secure type allows."""
    from sandbox.mpc.runner import MPCError, run_mpc
    from sandbox.mpc.transcript import read_transcript
    from tests.conftest import write_small_dataset

    data = write_small_dataset(tmp_path / "data", seed=11, orgs=["police", "kmar", "nla"])
    n = 2**20 + 1
    with (data / "police.csv").open("w") as fh:
        fh.write("record_id,person_key,org,registration_date,form,synthetic\n")
        fh.writelines(f"p{i},{i:016x},police,2024-03-01,sexual,SYNTHETIC\n" for i in range(n))
    out = tmp_path / "run"
    t0 = time.monotonic()
    with pytest.raises(MPCError) as err:
        run_mpc(scenario, data, "counts-by-form", orgs=["police", "kmar", "nla"], out_dir=out, timeout=120)
    msg = str(err.value)
    assert err.value.org == "police" and "police.csv" in msg and "outside the range" in msg, msg
    assert str(2**20 + 1) in msg
    for path in out.glob("transcript-*.jsonl"):
        events = read_transcript(path)
        assert not [e for e in events if e["event"] in {"shares", "start"}], path.name
    assert not (out / "transcript-0-police.jsonl").exists()  # refused before it even opened a transcript
    print(f"refused after {time.monotonic() - t0:.1f} s")


# ----------------------------------------------------------------------------- the command line

SMALL = Path(tempfile.mkdtemp(prefix="fuzz-cli-"))
OUT_DIR = str(SMALL / "out")
ARG_VALUES = st.one_of(
    st.sampled_from(["nl-baseline", "minors-criminal", "nope", "../x.yaml", "/etc/passwd", str(SMALL), OUT_DIR,
                     "counts-by-form", "age-statistics", "no-such", "police,kmar", "police,police,police",
                     ",,", "nan", "inf", "-inf", "1e9", "0", "-1", "1", "3", "stepwise", "", "--", "-",
                     "\x00" if False else "ø", "main", "loopback"]),
    st.integers(-3, 40).map(str), text_junk.filter(lambda s: "\x00" not in s),
)
FLAGS = ["--scenario", "--seed", "--population", "--year", "--out", "--json", "--data", "--computation",
         "--threshold", "--orgs", "--min-cell", "--timeout", "--counts", "--published", "--method", "--records",
         "--parties", "--network", "--latency-ms", "--runs", "--help", "-h", "--bogus", "--top-models",
         "--empty-overlaps"]
COMMANDS = ["generate", "computations", "run", "mse", "timeline", "timeline protocol", "timeline project",
            "bogus", ""]


@st.composite
def argvs(draw):
    argv = draw(st.sampled_from(COMMANDS)).split()
    for _ in range(draw(st.integers(0, 6))):
        argv.append(draw(st.sampled_from(FLAGS)))
        if draw(st.booleans()):
            argv.append(draw(ARG_VALUES))
    if argv[:1] == ["generate"]:  # keep generation quick: a small population, always last (argparse: last wins)
        argv += ["--population", draw(st.sampled_from(["-2", "0", "1", "30", "x"]))]
    if argv[:2] == ["timeline", "project"]:
        argv += ["--runs", draw(st.sampled_from(["0", "1", "20", "-4", "x"]))]
    return argv


def _run_cli(argv: list[str]) -> tuple[int, str]:
    from sandbox.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(argv)
        except SystemExit as exc:  # argparse: --help (0) or a usage error (2)
            code = exc.code if isinstance(exc.code, int) else 2
    return code, err.getvalue()


@examples(60)
@given(argvs())
def test_random_cli_arguments_exit_0_1_or_2_without_traceback(argv):
    cwd = os.getcwd()
    os.chdir(SMALL)
    try:
        code, err = _run_cli(argv)
    finally:
        os.chdir(cwd)
    assert code in (0, 2), (argv, code, err)  # 1 is "MPC result does not match", impossible here
    assert "Traceback" not in err, (argv, err)
    if code == 2 and err and "usage:" not in err:
        assert err.lstrip().startswith("error:"), (argv, err)


@pytest.mark.mpc
@pytest.mark.parametrize("extra", [
    ["--timeout", "nan"], ["--timeout", "-1"], ["--timeout", "inf"], ["--threshold", "0"], ["--threshold", "99"],
    ["--orgs", "police,kmar"], ["--orgs", "police,police,kmar"], ["--orgs", "police,kmar,ghost"],
    ["--min-cell", "-5"], ["--computation", "ghost"],
])
def test_run_edge_arguments_give_a_clear_error(small_data, tmp_path, extra):
    argv = ["run", "--data", str(small_data), "--computation", "counts-by-form", "--orgs", "police,kmar,nla",
            "--timeout", "30", "--out", str(tmp_path / "o"), *extra]
    t0 = time.monotonic()
    code, err = _run_cli(argv)
    assert time.monotonic() - t0 < 45, f"{extra} took too long (a hang?)"
    assert "Traceback" not in err
    if extra == ["--min-cell", "-5"]:  # was accepted silently before (issue 16)
        assert err == "error: min_cell must be a whole number of 0 or more, not -5\n"
    assert code == 2, (extra, code, err)  # NaN/inf timeouts and repeated organisations were accepted before
    assert err.startswith("error:") or "usage:" in err, err


# ----------------------------------------------------------------------------- the Run page

def _broken_dataset(root: Path, scenario, how: str) -> None:
    folder = root / f"{scenario.name}-seed1-pop{scenario.generator.population}"
    from tests.conftest import write_small_dataset

    write_small_dataset(folder, seed=5, orgs=scenario.org_ids)
    (folder / "ground_truth.json").write_text(json.dumps({"population": 0}))
    if how == "missing column":
        df = pd.read_csv(folder / "kmar.csv", dtype=str).drop(columns=["form"])
        df.to_csv(folder / "kmar.csv", index=False)
    else:
        (folder / "kmar.csv").write_bytes(b"\xff\xfe\x00garbage\x00\xc3\x28" * 50)


@pytest.mark.mpc
@pytest.mark.parametrize("how", ["missing column", "binary garbage"])
def test_run_page_with_a_broken_data_folder_shows_a_clear_error(scenario, tmp_path, monkeypatch, how):
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("MPC_SANDBOX_DATA", str(tmp_path / "data"))
    _broken_dataset(tmp_path / "data", scenario, how)
    at = AppTest.from_file(str(ROOT / "sandbox" / "app_pages" / "run.py"), default_timeout=60).run()
    assert not at.exception
    at.button(key="run_start").click().run()
    deadline = time.monotonic() + 60
    while not at.error and time.monotonic() < deadline:
        time.sleep(0.3)
        at.run()
    assert not at.exception
    assert at.error, "no error shown for a broken data folder"
    msg = at.error[0].value
    assert "kmar" in msg and "kmar.csv" in msg, msg
    assert "Traceback" not in msg
