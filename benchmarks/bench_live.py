"""Live-demo speed: what a facilitator waits for, against a bare MPyC start -> one secure sum -> stop.

Usage: python benchmarks/bench_live.py [--quick] [--repeat N] [--parties M]

Measured side by side, alternating within each repetition, on the default scenario's data (nl-baseline,
six organisations, seed 1):
  bare      m processes of benchmarks/bare_mpyc_sum.py (MPyC only), launched from this process; wall time
            from the first launch to the last exit;
  counts    `mpc-sandbox run --computation counts-by-form --json`: the whole command, as a user types it
            (parties forked from the warm server, the plaintext check next to them);
  exec      the same with MPC_SANDBOX_FORK=0 (one interpreter per party: how it was before);
  capture   `mpc-sandbox run --computation capture-patterns --json`.
  browser   (with --browser) the app in Debian's Chromium: press "Run with MPC" on the Run page (all six
            organisations, counts-by-form) and wait until the opened result is on the screen
            ("result"), and until the plaintext check's verdict is ("checked").
Medians of N repetitions (default 7) and the ratios to `bare` are written to
benchmarks/results/live.json and printed as a markdown table.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "live.json"
CLI = [sys.executable, "-m", "sandbox"]


def _ports(n: int) -> list[int]:
    socks = [socket.socket() for _ in range(n)]
    try:
        for s in socks:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def bare(m: int) -> float:
    ports = _ports(m)
    addresses = [a for p in ports for a in ("-P", f"127.0.0.1:{p}")]
    t0 = time.perf_counter()
    procs = [subprocess.Popen([sys.executable, str(ROOT / "benchmarks" / "bare_mpyc_sum.py"), "-M", str(m),
                               "-I", str(i), *addresses, "--no-log"], stdout=subprocess.DEVNULL)
             for i in range(m)]
    codes = [p.wait(120) for p in procs]
    if any(codes):
        raise RuntimeError(f"a bare MPyC party failed: exit codes {codes}")
    return time.perf_counter() - t0


def command(data: Path, computation: str, orgs: str | None, env: dict[str, str] | None = None) -> float:
    args = [*CLI, "run", "--scenario", "nl-baseline", "--data", str(data), "--computation", computation, "--json"]
    if orgs:
        args += ["--orgs", orgs]
    t0 = time.perf_counter()
    out = subprocess.run(args, capture_output=True, text=True, env={**os.environ, **(env or {})}, cwd=ROOT)
    seconds = time.perf_counter() - t0
    if out.returncode != 0 or json.loads(out.stdout)["match"] is not True:
        raise RuntimeError(f"{computation} failed: {out.stderr.strip()[-300:]}")
    return seconds


class App:
    """The Streamlit app on a free port, and one Chromium page on its Run page (Playwright)."""

    def __init__(self, data_root: Path) -> None:
        import urllib.request

        from playwright.sync_api import sync_playwright

        port = _ports(1)[0]
        env = {**os.environ, "MPC_SANDBOX_DATA": str(data_root), "MPC_SANDBOX_LANG": "en"}  # selectors are English
        self.server = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", str(ROOT / "sandbox" / "app.py"), "--server.headless", "true",
             "--server.port", str(port), "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false",
             "--server.fileWatcherType", "none"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL)
        self.url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(self.url + "/_stcore/health", timeout=2) as r:
                    if r.read() == b"ok":
                        break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError("the app did not start within 60 s") from None
                time.sleep(0.2)
        self.pw = sync_playwright().start()
        self.browser = self.pw.chromium.launch(executable_path="/usr/bin/chromium",
                                               args=["--no-sandbox", "--disable-dev-shm-usage"])
        self.page = self.browser.new_page(viewport={"width": 1400, "height": 1000})
        self.page.set_default_timeout(120_000)

    def click_to_result(self) -> tuple[float, float]:
        """Seconds from the click on Run to the opened result on screen, and to the check's verdict."""
        page = self.page
        page.goto(self.url + "/run")
        button = page.get_by_role("button", name="Run with MPC")
        button.wait_for()
        metric = page.locator('[data-testid="stMetricValue"]')
        t0 = time.perf_counter()
        button.click()
        page.get_by_text("Result opened to every organisation").wait_for()
        result = time.perf_counter() - t0
        metric.filter(has_text="match").wait_for()
        return result, time.perf_counter() - t0

    def close(self) -> None:
        self.browser.close()
        self.pw.stop()
        self.server.terminate()
        self.server.wait(10)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 repetitions; results are not saved")
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--parties", type=int, default=6, help="organisations of nl-baseline to use (3-6)")
    parser.add_argument("--browser", action="store_true", help="also click Run in the app (Chromium)")
    args = parser.parse_args(argv)
    repeat = 3 if args.quick else args.repeat
    orgs_all = ["police", "kmar", "nla", "care_coordination", "shelter", "fairwork"]
    with tempfile.TemporaryDirectory(prefix="bench-live-") as tmp:
        data = Path(tmp) / "data"
        subprocess.run([*CLI, "generate", "--scenario", "nl-baseline", "--seed", "1", "--out", str(data)],
                       check=True, stdout=subprocess.DEVNULL, cwd=ROOT)
        orgs_all = sorted(p.stem for p in data.glob("*.csv"))  # every organisation of the scenario
        orgs = None if args.parties >= len(orgs_all) else ",".join(orgs_all[: args.parties])
        m = len(orgs.split(",")) if orgs else len(orgs_all)
        records = sum(sum(1 for _ in open(data / f"{o}.csv")) - 1 for o in (orgs.split(",") if orgs else orgs_all))
        variants = {
            "bare": lambda: bare(m),
            "counts": lambda: command(data, "counts-by-form", orgs),
            "exec": lambda: command(data, "counts-by-form", orgs, {"MPC_SANDBOX_FORK": "0"}),
            "capture": lambda: command(data, "capture-patterns", orgs),
        }
        app = App(Path(tmp) / "app-data") if args.browser else None
        clicks: list[tuple[float, float]] = []
        if app is not None:
            variants["browser result"] = lambda: clicks.append(app.click_to_result()) or clicks[-1][0]
            variants["browser checked"] = lambda: clicks[-1][1]
        try:
            for fn in variants.values():  # warm the page cache (and the app's dataset) once, untimed
                fn()
            times: dict[str, list[float]] = {k: [] for k in variants}
            for r in range(repeat):
                for name, fn in variants.items():
                    times[name].append(fn())
                print(f"repetition {r + 1}/{repeat}: " + ", ".join(f"{k} {v[-1]:.2f} s" for k, v in times.items()),
                      flush=True)
        finally:
            if app is not None:
                app.close()
    med = {k: statistics.median(v) for k, v in times.items()}
    # the ratio within each repetition (measured seconds apart), then its median: robust to the machine's
    # load changing between repetitions, which moves both numbers of a pair together
    paired = {k: statistics.median(x / b for x, b in zip(times[k], times["bare"], strict=True)) for k in variants}
    rows = [{"variant": k, "median_s": round(med[k], 3), "ratio_to_bare": round(med[k] / med["bare"], 2),
             "median_paired_ratio": round(paired[k], 2), "runs_s": [round(x, 3) for x in times[k]]}
            for k in variants]
    print(f"\n{m} parties, {records} records, median of {repeat} (alternating):\n")
    print("| variant | median (s) | × bare (medians) | × bare (median of paired ratios) |\n|---|---:|---:|---:|")
    for row in rows:
        print(f"| {row['variant']} | {row['median_s']:.2f} | {row['ratio_to_bare']:.2f} | "
              f"{row['median_paired_ratio']:.2f} |")
    if not args.quick:
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text(json.dumps({"date": date.today().isoformat(), "machine": platform.platform(),
                                       "cores": os.cpu_count(), "load_average_1min_at_end": os.getloadavg()[0],
                                       "parties": m, "records": records,
                                       "repeat": repeat, "rows": rows}, indent=2) + "\n")
        print(f"\nwritten to {RESULTS.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
