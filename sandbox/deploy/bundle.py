"""Party bundles: everything one organisation needs to run its own MPC party on its own host.

    OUT/
      workshop.txt                 public summary for the workshop lead (addresses, CA fingerprint)
      <org>/                       one bundle per organisation, handed to that organisation only
        README.txt                 for the organisation's IT staff
        bundle.json                manifest: scenario, org, party index, peers, computations, fingerprint
        data/<org>.csv             ONLY this organisation's own records (absent with data=None)
        plans/<computation>.json   the party plan (paths relative to the bundle)
        mapping.json               only if a mapping was given for this organisation
        tls/.config/party_<i>.key  this party's private key (0600) -- and no other party's key
        tls/.config/party_<i>.crt  this party's certificate, named "MPyC party <i>"
        tls/.config/mpyc_ca.crt    the workshop CA certificate (its key was thrown away)
        output/                    transcripts and results of `mpc-sandbox party` (created when run)

`run_party` (the `mpc-sandbox party` command) runs the existing party program
(`python -m sandbox.mpc.party`) in MPyC's multi-host mode: `-P host:port` per party, `-I` its index,
`--ssl`, with the working directory `tls/` so that MPyC finds `.config/`.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sandbox.deploy import tls
from sandbox.deploy.mapping import MappingError, load_mapping
from sandbox.i18n import N_
from sandbox.mpc import computations
from sandbox.scenario import Scenario

__all__ = ["BUNDLE_FORMAT", "DEFAULT_COMPUTATIONS", "DeployError", "ExportSummary", "export_bundles", "export_zip",
           "load_bundle", "parse_address", "parse_hosts", "run_party"]

BUNDLE_FORMAT = "mpc-sandbox-bundle/1"
DEFAULT_COMPUTATIONS = ("counts-by-form",)
DEFAULT_TIMEOUT = 300.0
DEFAULT_CONNECT_TIMEOUT = 120.0
PROJECT_ROOT = Path(__file__).resolve().parents[2]


class DeployError(ValueError):
    """A bundle cannot be made or run; the message says what to fix."""


# ------------------------------------------------------------------------------------------ addresses

def parse_address(text: str, *, what: str = "address", default_host: str | None = None) -> tuple[str, int]:
    """'host:port' (or '[v6]:port'; with default_host also ':port' or 'port') as (host, port)."""
    text = text.strip()
    if default_host is not None and text.isdigit():
        text = f":{text}"
    host, sep, port = text.rpartition(":")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if not sep or not port.isdigit() or not 1 <= int(port) <= 65535:
        raise DeployError(N_("{place} {text!r} is not HOST:PORT with a port from 1 to 65535").format(
            place=what, text=text))
    if not host:
        if default_host is None:
            raise DeployError(N_("{place} {text!r} has no host").format(place=what, text=text))
        host = default_host
    if any(c.isspace() for c in host) or "/" in host:
        raise DeployError(N_("{place} {text!r}: {host!r} is not a host name or IP address").format(
            place=what, text=text, host=host))
    return host, int(port)


def parse_hosts(text: str | list[str], m: int, orgs: list[str]) -> list[tuple[str, int]]:
    items = [h for h in (text.split(",") if isinstance(text, str) else text) if h.strip()]
    if len(items) != m:
        raise DeployError(N_("--hosts needs one HOST:PORT per organisation in the scenario's order ({orgs}): "
                             "{m} addresses, got {n}").format(orgs=", ".join(orgs), m=m, n=len(items)))
    hosts = [parse_address(h, what=N_("address of {org}").format(org=org)) for h, org in zip(items, orgs, strict=True)]
    dupes = sorted({f"{h}:{p}" for h, p in hosts if hosts.count((h, p)) > 1})
    if dupes:
        raise DeployError(N_("address(es) used by more than one organisation: {addresses}").format(
            addresses=", ".join(dupes)))
    return hosts


def _fmt(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


# ------------------------------------------------------------------------------------------ export

@dataclass
class ExportSummary:
    out: Path
    bundles: dict[str, Path]
    fingerprint: str
    valid_until: str
    workshop_id: str
    hosts: list[str]
    computations: list[str]
    threshold: int

    def to_json(self) -> dict[str, Any]:
        return {"out": str(self.out), "bundles": {o: str(p) for o, p in self.bundles.items()},
                "ca_fingerprint_sha256": self.fingerprint, "valid_until": self.valid_until,
                "workshop_id": self.workshop_id, "hosts": self.hosts, "computations": self.computations,
                "threshold": self.threshold}


def _threshold(m: int, threshold: int | None) -> int:
    if m < 3:
        raise DeployError(N_("{m} organisation(s): Shamir secret sharing with an honest majority needs at least "
                             "3 parties (add an independent third compute party)").format(m=m))
    t = (m - 1) // 2 if threshold is None else threshold
    if not 1 <= t <= (m - 1) // 2:
        raise DeployError(N_("threshold {t} is not valid for {m} parties: it must be between 1 and {most}").format(
            t=t, m=m, most=(m - 1) // 2))
    return t


def export_bundles(
    scenario: Scenario,
    data_dir: str | Path | None,
    hosts: str | list[str],
    out: str | Path,
    *,
    computation_names: list[str] | tuple[str, ...] | None = None,
    mappings: dict[str, str | Path] | None = None,
    threshold: int | None = None,
    days: int = tls.DEFAULT_DAYS,
    timeout: float = DEFAULT_TIMEOUT,
    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
) -> ExportSummary:
    """Write one bundle per organisation of `scenario` into `out` (which must not exist or be empty).

    `data_dir=None` makes bundles without data: each organisation then puts its own export at
    `data/<org>.csv` itself (the pilot path: real records never pass through the workshop lead).
    """
    orgs = scenario.org_ids
    m = len(orgs)
    t = _threshold(m, threshold)
    addresses = parse_hosts(hosts, m, orgs)
    names = list(computation_names or DEFAULT_COMPUTATIONS)
    if len(set(names)) != len(names):
        raise DeployError(N_("a computation is listed twice"))
    comps = [computations.get(n) for n in names]  # ComputationError for an unknown name
    mappings = dict(mappings or {})
    unknown = sorted(set(mappings) - set(orgs))
    if unknown:
        raise DeployError(N_("mapping for organisation(s) not in scenario {scenario!r}: {unknown} "
                             "(organisations: {orgs})").format(scenario=scenario.name, unknown=", ".join(unknown),
                                                               orgs=", ".join(orgs)))
    loaded = {}
    for org, path in mappings.items():
        try:
            loaded[org] = load_mapping(path)
        except MappingError as exc:
            raise DeployError(N_("mapping for {org}: {error}").format(org=org, error=exc)) from None
        if loaded[org]["org"] != org:
            raise DeployError(N_("mapping {path} was made for organisation {made!r}, not {org!r}").format(
                path=path, made=loaded[org]["org"], org=org))
    csvs: dict[str, Path] = {}
    if data_dir is not None:
        data_dir = Path(data_dir)
        for org in orgs:
            csv = data_dir / f"{org}.csv"
            if not csv.is_file():
                raise DeployError(N_("no data file for organisation {org!r}: {path} does not exist").format(
                    org=org, path=csv))
            csvs[org] = csv
            if org in loaded:
                _check_header(csv, loaded[org])
    out = Path(out)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise DeployError(N_("{path} already exists and is not empty: bundles from two exports must never be "
                             "mixed; choose a new folder").format(path=out))

    pki = tls.make_pki(m, days=days)
    params: dict[str, Any] = {"min_cell": scenario.disclosure.min_cell, "orgs": orgs}
    peers = [{"index": i, "org": o, "address": _fmt(*addresses[i])} for i, o in enumerate(orgs)]
    out.mkdir(parents=True, exist_ok=True)
    bundles = {}
    for i, org in enumerate(orgs):
        root = out / org
        (root / "plans").mkdir(parents=True)
        (root / "data").mkdir()
        if org in csvs:
            shutil.copyfile(csvs[org], root / "data" / f"{org}.csv")
        if org in loaded:
            (root / "mapping.json").write_text(json.dumps(loaded[org], indent=2, ensure_ascii=False) + "\n",
                                               encoding="utf-8")
        tls.write_party_files(root / "tls" / ".config", pki, i)
        for comp in comps:
            plan = {
                "computation": comp.name,
                "pid": i,
                "orgs": orgs,
                "csv": f"data/{org}.csv",
                "cells": comp.cells(params),
                "input_bits": comp.input_bits,
                "params": params,
                "transcript": f"output/transcript-{comp.name}.jsonl",
                "result": f"output/result-{comp.name}.json",
                "timeout": timeout,
                "connect_timeout": connect_timeout,
                "listen_host": "0.0.0.0",
            }
            if org in loaded:
                plan["mapping"] = "mapping.json"
            (root / "plans" / f"{comp.name}.json").write_text(json.dumps(plan, indent=2) + "\n", encoding="utf-8")
        manifest = {
            "format": BUNDLE_FORMAT,
            "scenario": scenario.name,
            "org": org,
            "index": i,
            "m": m,
            "threshold": t,
            "peers": peers,
            "computations": names,
            "ca_fingerprint_sha256": pki.fingerprint,
            "workshop_id": pki.workshop_id,
            "valid_until": pki.not_after.isoformat(),
            "mapping": "mapping.json" if org in loaded else None,
            "data_included": org in csvs,
        }
        (root / "bundle.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
        (root / "README.txt").write_text(_readme(scenario, manifest, comps), encoding="utf-8")
        bundles[org] = root
    summary = ExportSummary(out=out, bundles=bundles, fingerprint=pki.fingerprint,
                            valid_until=pki.not_after.strftime("%Y-%m-%d %H:%M UTC"), workshop_id=pki.workshop_id,
                            hosts=[p["address"] for p in peers], computations=names, threshold=t)
    lines = [f"MPC Trust Sandbox -- workshop {pki.workshop_id}, scenario {scenario.name}",
             f"CA certificate SHA-256 fingerprint: {pki.fingerprint}",
             f"certificates valid until {summary.valid_until}; threshold t = {t} of m = {m}",
             f"computations: {', '.join(names)}", "", "party  organisation          address"]
    lines += [f"{p['index']:>5}  {p['org']:<20}  {p['address']}" for p in peers]
    lines += ["", "Give each organisation ONLY its own folder: it holds that party's private key.",
              "Read the fingerprint above to each organisation's IT staff over a separate channel (phone)."]
    (out / "workshop.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return summary


def _check_header(csv: Path, mapping: dict[str, Any]) -> None:
    with csv.open(encoding="utf-8-sig") as fh:
        first = fh.readline()
    from sandbox.deploy.mapping import parse_header

    try:
        header = parse_header(first)
    except MappingError as exc:
        raise DeployError(N_("{path}: {error}").format(path=csv.name, error=exc)) from None
    if header != mapping["header"]:
        raise DeployError(N_("{path}: its header ({header}) differs from the header the mapping for {org} was made "
                             "for ({expected})").format(path=csv.name, header=", ".join(header), org=mapping["org"],
                                                        expected=", ".join(mapping["header"])))


def export_zip(
    scenario: Scenario, data_dir: str | Path | None, hosts: str | list[str], **kwargs: Any
) -> tuple[bytes, ExportSummary]:
    """export_bundles into a temporary folder and return it as zip bytes (for a download button)."""
    import tempfile

    with tempfile.TemporaryDirectory(prefix="mpc-sandbox-export-") as tmp:
        summary = export_bundles(scenario, data_dir, hosts, Path(tmp) / "bundles", **kwargs)
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
            for path in sorted(summary.out.rglob("*")):
                if path.is_file():
                    info = zipfile.ZipInfo.from_file(path, arcname=str(path.relative_to(summary.out.parent)))
                    info.compress_type = zipfile.ZIP_DEFLATED
                    zf.writestr(info, path.read_bytes())
        summary.out = Path("bundles")
        summary.bundles = {o: Path("bundles") / o for o in summary.bundles}
    return buf.getvalue(), summary


# ------------------------------------------------------------------------------------------ README

def _readme(scenario: Scenario, man: dict[str, Any], comps: list[computations.Computation]) -> str:
    i, m, org = man["index"], man["m"], man["org"]
    peers = man["peers"]
    me = peers[i]["address"]
    port = me.rsplit(":", 1)[1]
    inbound = [p for p in peers if p["index"] < i]
    outbound = [p for p in peers if p["index"] > i]
    lines = [
        f"MPC party bundle for {org} -- party {i} of {m} (parties 0..{m - 1})",
        f"Workshop {man['workshop_id']}, scenario {scenario.name}. Certificates valid until {man['valid_until']}.",
        "",
        "1. WHAT TO RUN",
        "   On the host that the other organisations reach at " + me + ", with the MPC Trust Sandbox",
        "   installed (Python 3.11, `pip install` of the same version as the other organisations):",
        "",
        "       mpc-sandbox party --bundle /path/to/this/folder",
        "",
        "   It runs " + ", ".join(c.name for c in comps) + (" (one after the other)" if len(comps) > 1 else "")
        + ", prints the opened results",
        "   and writes its transcript and result to output/. Options:",
        f"       --listen HOST:PORT   bind another local address/port than {me} (e.g. behind NAT or",
        "                            port forwarding: the others still dial the address above)",
        "       --computation NAME   run only that computation;  --timeout S   give up after S seconds",
        "       --check              only check the bundle and print the CA fingerprint",
        "   All organisations start their party at the agreed time; each waits (up to the connect",
        "   timeout) for the others. Only with the data of at least 3 organisations is anything private.",
        "",
        "2. NETWORK: WHICH PORTS TO OPEN TO WHOM (TCP only)",
    ]
    if inbound:
        lines.append(f"   Inbound:  allow TCP port {port} on this host from")
        lines += [f"               party {p['index']} ({p['org']}), host {p['address'].rsplit(':', 1)[0]}"
                  for p in inbound]
    else:
        lines.append("   Inbound:  none -- party 0 only makes outgoing connections.")
    if outbound:
        lines.append("   Outbound: allow TCP connections from this host to")
        lines += [f"               party {p['index']} ({p['org']}) at {p['address']}" for p in outbound]
    else:
        lines.append(f"   Outbound: none -- party {m - 1} only accepts incoming connections.")
    lines += [
        "   Every connection is TLS with certificates on both sides; a peer without a certificate from",
        "   this workshop's CA is refused and the party stops with a PARTY-ERROR naming the TLS failure.",
        "",
        "3. WHAT CROSSES THE NETWORK (encrypted with TLS)",
        "   - random-looking secret shares of the numbers prepared from your records (for example your",
        "     count per form of exploitation), never the records or the numbers themselves;",
        "   - pairwise random seeds exchanged once when connecting (used to make fresh shares);",
        "   - protocol messages (shares of intermediate values) and the OPENED results: the totals over",
        "     all organisations, with cells below the small-cell threshold "
        f"({scenario.disclosure.min_cell}) withheld.",
        "   Peers' messages contain pickled arrays that the party program unpickles: only run this with",
        "   the organisations agreed in the workshop (the certificates enforce that).",
        "",
        "4. WHAT STAYS ON THIS HOST",
        f"   - data/{org}.csv, your records (never sent, never shared with the workshop lead"
        + (")" if man["data_included"] else "; put your export there yourself)"),
    ]
    if man.get("mapping"):
        lines.append("   - mapping.json, how your export's columns and codes translate (applied locally before anything"
                     " is shared)")
    lines += [
        f"   - tls/.config/party_{i}.key, this party's private key: keep it readable by the service account only",
        "   - output/, your transcript (everything this party sent, received and saw) and the results",
        "",
        "5. VERIFY THE CA FINGERPRINT OUT OF BAND (before the first run)",
        "   Compute the fingerprint of the CA certificate in this bundle:",
        "       openssl x509 -in tls/.config/mpyc_ca.crt -noout -fingerprint -sha256",
        "   (or: mpc-sandbox party --bundle . --check). It must be exactly",
        f"       {man['ca_fingerprint_sha256']}",
        "   Compare it with the value the workshop lead reads to you over the phone or shows in person --",
        "   not with a value from the same e-mail or download as this bundle. All organisations must get",
        "   the same fingerprint. If it differs, do not run: ask for a fresh export.",
        "",
        "6. SECURITY NOTES",
        f"   Semi-honest security with an honest majority: any {man['threshold']} parties together learn nothing",
        "   beyond the opened results; more colluding parties could. The private key of the CA was thrown away",
        "   after this export: new certificates mean a new export (new CA, new bundles for everyone).",
        "",
    ]
    return "\n".join(lines)


# ------------------------------------------------------------------------------------------ running

def load_bundle(path: str | Path) -> tuple[Path, dict[str, Any]]:
    root = Path(path).resolve()
    try:
        man = json.loads((root / "bundle.json").read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise DeployError(N_("{path}: not a party bundle (no readable bundle.json: {detail})").format(
            path=root, detail=exc)) from None
    if man.get("format") != BUNDLE_FORMAT:
        raise DeployError(N_("{path}/bundle.json: not a {format} manifest").format(path=root, format=BUNDLE_FORMAT))
    return root, man


def check_bundle(path: str | Path) -> tuple[Path, dict[str, Any], str]:
    """Load a bundle and check its TLS files; return (root, manifest, CA fingerprint)."""
    root, man = load_bundle(path)
    try:
        fingerprint = tls.check_party_files(root / "tls" / ".config", int(man["index"]))
    except ValueError as exc:
        raise DeployError(str(exc)) from None
    if fingerprint != man["ca_fingerprint_sha256"]:
        raise DeployError(N_("the CA certificate in {path}/tls/.config has fingerprint {fingerprint}, but the bundle "
                             "manifest says {expected}: the bundle was altered or mixed").format(
            path=root, fingerprint=fingerprint, expected=man["ca_fingerprint_sha256"]))
    return root, man, fingerprint


def _last_error(text: str) -> str:
    lines = text.splitlines()
    for line in reversed(lines):
        if line.startswith("PARTY-ERROR: "):
            return line[len("PARTY-ERROR: "):]
    tail = [ln for ln in lines if ln.strip()]
    return tail[-1] if tail else ""


def run_party(
    path: str | Path,
    *,
    listen: str | None = None,
    computation: str | None = None,
    timeout: float | None = None,
    connect_timeout: float | None = None,
    log: Any = None,
) -> list[dict[str, Any]]:
    """Run this bundle's party for each computation (or the one named); return the party results.

    Raises DeployError with the party's `PARTY-ERROR:` text when it fails.
    """
    root, man, _ = check_bundle(path)
    i, m = int(man["index"]), int(man["m"])
    names = man["computations"]
    if computation is not None:
        if computation not in names:
            raise DeployError(N_("this bundle has no plan for {name!r} (it has: {names})").format(
                name=computation, names=", ".join(names)))
        names = [computation]
    peers = [parse_address(p["address"], what=f"address of party {p['index']}") for p in man["peers"]]
    listen_host, listen_port = ("0.0.0.0", peers[i][1])
    if listen:
        listen_host, listen_port = parse_address(listen, what="--listen", default_host="0.0.0.0")
    output = root / "output"
    output.mkdir(exist_ok=True)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(PROJECT_ROOT), os.environ.get("PYTHONPATH")]))}
    results = []
    for name in names:
        plan = json.loads((root / "plans" / f"{name}.json").read_text(encoding="utf-8"))
        for key in ("csv", "transcript", "result", "mapping"):
            if plan.get(key):
                plan[key] = str((root / plan[key]).resolve())
        if not Path(plan["csv"]).is_file():
            raise DeployError(N_("no data file at {path}: put this organisation's export there").format(
                path=plan["csv"]))
        plan["listen_host"] = listen_host
        if listen_port != peers[i][1]:
            plan["listen_port"] = listen_port
        if timeout is not None:
            plan["timeout"] = float(timeout)
        if connect_timeout is not None:
            plan["connect_timeout"] = float(connect_timeout)
        Path(plan["result"]).unlink(missing_ok=True)
        plan_path = output / f"plan-{name}.json"
        plan_path.write_text(json.dumps(plan, indent=2), encoding="utf-8")
        addresses = [arg for host, port in peers for arg in ("-P", f"{host}:{port}")]
        cmd = [sys.executable, "-m", "sandbox.mpc.party", "--plan", str(plan_path), "-M", str(m), "-I", str(i),
               "-T", str(man["threshold"]), *addresses, "--ssl", "--no-log"]
        if log:
            log(f"party {i} ({man['org']}): {name}: connecting to {m - 1} peers with TLS")
        err_path = output / f"party-{name}.err"
        t0 = time.perf_counter()
        with err_path.open("w", encoding="utf-8") as err:
            proc = subprocess.Popen(cmd, cwd=root / "tls", stdout=subprocess.DEVNULL, stderr=err,
                                    stdin=subprocess.DEVNULL, env=env)
            try:
                code = proc.wait(timeout=float(plan["timeout"]) + 15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
                raise DeployError(f"party {i} ({man['org']}): {name}: no result after "
                                  f"{plan['timeout']:.0f} s") from None
            except BaseException:  # Ctrl-C: never leave the party behind
                proc.kill()
                proc.wait()
                raise
        if code != 0:
            reason = _last_error(err_path.read_text(encoding="utf-8", errors="replace")) or f"exit code {code}"
            raise DeployError(f"party {i} ({man['org']}): {name} failed: {reason}")
        result = json.loads(Path(plan["result"]).read_text(encoding="utf-8"))
        result["computation"] = name
        result["seconds"] = round(time.perf_counter() - t0, 3)
        result["transcript"] = plan["transcript"]
        results.append(result)
    return results
