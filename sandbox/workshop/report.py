"""The workshop report: what was done, what was computed, who approved, what was revealed.

`collect(...)` gathers everything into a `WorkshopReport`; `to_html` and `to_pdf` render it.
HTML embeds interactive plotly charts (plotly.js inlined once, so the file works offline);
the PDF (fpdf2) embeds PNG charts made by kaleido, which needs Chromium. Without a browser the
PDF is still produced, without charts, and says so.

Pure: no Streamlit import.
"""

from __future__ import annotations

import html
import threading
import warnings
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import plotly.graph_objects as go

from sandbox.i18n import format_decimal, format_int, gettext_for, localized
from sandbox.workshop.room import RoomStore

__all__ = ["WorkshopReport", "charts", "collect", "estimate_from_patterns", "to_html", "to_pdf"]

DEJAVU = Path("/usr/share/fonts/truetype/dejavu")
_kaleido_lock = threading.Lock()  # one kaleido browser at a time per server


@dataclass
class WorkshopReport:
    scenario_name: str
    scenario_title: str
    description: str = ""
    steps: list[dict[str, Any]] = field(default_factory=list)  # {id, title, done}
    runs: list[dict[str, Any]] = field(default_factory=list)  # {label, computation, parties, revealed, ...}
    audit: list[dict[str, str]] = field(default_factory=list)  # {at, actor, action, detail}
    room_code: str | None = None
    estimates: list[dict[str, Any]] = field(default_factory=list)  # {label, observed, estimate}
    timeline: dict[str, Any] | None = None  # ProjectResult.summary()
    lang: str = "en"  # the language the report is written in (texts from the scenario are already in it)
    created: str = field(default_factory=lambda: datetime.now().strftime("%Y-%m-%d %H:%M"))


def estimate_from_patterns(revealed: Any, lists: list[str]) -> dict[str, Any] | None:
    """A multiple-systems estimate from revealed capture-pattern counts, or None if not possible."""
    if not isinstance(revealed, list) or not revealed:
        return None
    try:
        from sandbox.mse.analysis import point_estimate
        from sandbox.mse.table import CaptureTable

        patterns = [p for p in revealed if isinstance(p, dict) and p.get("count") is not None]
        table = CaptureTable.from_patterns(patterns, lists)
        return {"observed": int(sum(p["count"] for p in patterns)), "estimate": float(point_estimate(table))}
    except Exception:  # too few lists or overlaps: no estimate, the report just leaves it out
        return None


def collect(scenario: Any, *, steps_done: list[str] | None = None, session_run: dict[str, Any] | None = None,
            store: RoomStore | None = None, room_code: str | None = None,
            timeline: dict[str, Any] | None = None, lang: str = "en") -> WorkshopReport:
    """Gather a report from the scenario, the steps done, this session's last run and the room (if any),
    written in `lang` ('en' or 'nl')."""
    _ = gettext_for(lang)
    done = set(steps_done or [])
    statuses = {"pending": _("pending"), "approved": _("approved"), "rejected": _("rejected"),
                "running": _("running"), "done": _("done"), "failed": _("failed")}
    report = WorkshopReport(scenario.name, localized(scenario.title, lang), localized(scenario.description, lang),
                            steps=[{"id": s.id, "title": localized(s.title, lang), "done": s.id in done}
                                   for s in scenario.script],
                            timeline=timeline, lang=lang)
    if session_run:
        report.runs.append({"label": _("Run in this session"), **_shown(session_run), "approvals": ""})
    if store is not None and room_code:
        report.room_code = room_code
        for p in store.proposals(room_code):
            votes = ", ".join(f"{o}: {_('approved') if ok else _('rejected')}" for o, ok in p.votes.items())
            entry = {"label": _("Room {code}, proposal #{id} ({status})").format(
                         code=room_code, id=p.id, status=statuses.get(p.status, p.status)),
                     "computation": p.computation, "parties": p.orgs,
                     "approvals": _("proposed by {who}; {votes}").format(who=p.proposed_by,
                                                                           votes=votes or _("no votes yet"))}
            if p.result:
                entry.update(_shown(p.result))
            report.runs.append(entry)
        report.audit = [{"at": a.at, "actor": a.actor, "action": a.action, "detail": a.detail}
                        for a in store.audit(room_code)]
    for run in report.runs:
        if run.get("computation") == "capture-patterns":
            est = estimate_from_patterns(run.get("revealed"), list(run.get("parties") or []))
            if est:
                report.estimates.append({"label": run["label"], **est})
    return report


def _shown(run: dict[str, Any]) -> dict[str, Any]:
    return {k: run.get(k) for k in ("computation", "parties", "revealed", "suppressed", "match", "seconds")}


# ---------------------------------------------------------------------------------------------- charts

def _bar(title: str, x: list[Any], y: list[Any], colour: str = "#1f4e9c") -> go.Figure:
    fig = go.Figure(go.Bar(x=[str(v) for v in x], y=y, marker_color=colour, text=y, textposition="outside"))
    fig.update_layout(title=title, font={"size": 14}, height=380, width=860, showlegend=False,
                      margin={"l": 40, "r": 20, "t": 60, "b": 80}, plot_bgcolor="white")
    return fig


def _timeline_title(report: WorkshopReport) -> str:
    _ = gettext_for(report.lang)
    return _("Project duration in working days (Monte Carlo)")


def charts(report: WorkshopReport) -> list[tuple[str, go.Figure]]:
    """One chart per revealed result (max 40 cells) plus the project timeline, in report order."""
    _ = gettext_for(report.lang)
    out = []
    for run in report.runs:
        revealed = run.get("revealed")
        if isinstance(revealed, dict):
            cells = [(k, v) for k, v in revealed.items() if isinstance(v, int | float)][:40]
        elif isinstance(revealed, list):
            cells = [(" + ".join(p["lists"]), p["count"]) for p in revealed
                     if isinstance(p, dict) and isinstance(p.get("count"), int | float)][:40]
        else:
            cells = []
        if cells:
            title = f"{run['label']}: {run['computation']}"
            out.append((title, _bar(title, [c for c, _v in cells], [v for _c, v in cells])))
    if report.timeline:
        t = report.timeline
        title = _timeline_title(report)
        labels = [_("naive plan"), _("half of the projects"), _("8 in 10 projects"), _("9 in 10 projects")]
        out.append((title, _bar(title, labels,
                                [t.get("naive_days"), t.get("p50_days"), t.get("p80_days"), t.get("p90_days")],
                                "#e76f51")))
    return out


def _cell(value: Any, lang: str) -> str:
    if value is None:
        _ = gettext_for(lang)
        return _("suppressed (below the small-cell threshold)")
    return format_int(value, lang) if isinstance(value, int) else str(value)


def _revealed_rows(revealed: Any, lang: str = "en") -> list[tuple[str, str]]:
    if isinstance(revealed, dict):
        return [(str(k), _cell(v, lang)) for k, v in revealed.items()]
    if isinstance(revealed, list):
        return [(" + ".join(p.get("lists", [])), _cell(p.get("count"), lang)) for p in revealed
                if isinstance(p, dict)]
    _ = gettext_for(lang)
    return [] if revealed is None else [(_("value"), _cell(revealed, lang))]


def _timeline_text(report: WorkshopReport) -> str:
    t, _ = report.timeline or {}, gettext_for(report.lang)
    return _("Naive plan {naive} working days; half of the simulated projects finish within {p50}, 8 in 10 "
             "within {p80}, 9 in 10 within {p90} working days.").format(
                 naive=t.get("naive_days"), p50=t.get("p50_days"), p80=t.get("p80_days"),
                 p90=t.get("p90_days"))


# ---------------------------------------------------------------------------------------------- HTML

CSS = """body{font-family:system-ui,sans-serif;max-width:960px;margin:2em auto;padding:0 1em;color:#222}
h1{color:#1f4e9c}table{border-collapse:collapse;margin:.5em 0 1em}td,th{border:1px solid #ccc;padding:3px 8px;
text-align:left}.banner{background:#fff3cd;border:2px solid #e0a800;padding:4px 10px;font-weight:700;
display:inline-block}.done{color:#2a9d8f}.todo{color:#999}"""


def _made(report: WorkshopReport) -> str:
    _ = gettext_for(report.lang)
    text = _("Scenario {name}, report made {created}").format(name=report.scenario_name, created=report.created)
    return text + (_(", room {code}").format(code=report.room_code) if report.room_code else "") + "."


def to_html(report: WorkshopReport, *, lang: str | None = None) -> str:
    """The report as one HTML file, in `lang` (default: the language it was collected in)."""
    if lang is not None:
        report.lang = lang
    _, lang = gettext_for(report.lang), report.lang
    e = html.escape
    title = _("Workshop report: {title}").format(title=report.scenario_title)
    parts = [f"<!doctype html><html lang='{e(lang)}'><head><meta charset='utf-8'><title>{e(title)}"
             f"</title><style>{CSS}</style></head><body>",
             f"<h1>{e(title)}</h1>",
             f"<p class='banner'>{e(_('SYNTHETIC DATA: no real person appears here'))}</p>",
             f"<p>{e(_made(report))}</p><p>{e(report.description)}</p>"]
    if report.steps:
        parts.append(f"<h2>{e(_('Steps'))}</h2><ol>")
        for s in report.steps:
            mark = (f"<span class='done'>{e(_('done'))}</span>" if s["done"]
                    else f"<span class='todo'>{e(_('not done'))}</span>")
            parts.append(f"<li>{e(s['title'])} ({mark})</li>")
        parts.append("</ol>")
    parts.append(f"<h2>{e(_('Computations and revealed results'))}</h2>")
    if not report.runs:
        parts.append(f"<p>{e(_('No computation was run.'))}</p>")
    figures = dict(charts(report))
    plotly_js_done = False
    for run in report.runs:
        parts.append(f"<h3>{e(run['label'])}: {e(str(run.get('computation')))}</h3>")
        parts.append("<p>" + e(_("Organisations: {orgs}.").format(orgs=", ".join(run.get("parties") or [])))
                     + (" " + e(_("Approvals: {approvals}.").format(approvals=run["approvals"]))
                        if run.get("approvals") else "") + "</p>")
        rows = _revealed_rows(run.get("revealed"), lang)
        if rows:
            parts.append(f"<table><tr><th>{e(_('cell'))}</th><th>{e(_('revealed'))}</th></tr>"
                         + "".join(f"<tr><td>{e(c)}</td><td>{e(v)}</td></tr>" for c, v in rows) + "</table>")
        fig = figures.get(f"{run['label']}: {run.get('computation')}")
        if fig is not None:
            parts.append(fig.to_html(full_html=False, include_plotlyjs="inline" if not plotly_js_done else False,
                                     config={"displayModeBar": False}))
            plotly_js_done = True
    if report.estimates:
        parts.append(f"<h2>{e(_('Size estimates (multiple systems estimation)'))}</h2><table><tr>"
                     f"<th>{e(_('from'))}</th><th>{e(_('persons seen'))}</th><th>{e(_('estimated total'))}</th></tr>")
        parts += [f"<tr><td>{e(x['label'])}</td><td>{format_int(x['observed'], lang)}</td>"
                  f"<td>{format_decimal(x['estimate'], lang, 0)}</td></tr>" for x in report.estimates]
        parts.append("</table>")
    if report.timeline:
        parts.append(f"<h2>{e(_('Project timeline'))}</h2><p>{e(_timeline_text(report))}</p>")
        fig = figures.get(_timeline_title(report))
        if fig is not None:
            parts.append(fig.to_html(full_html=False, include_plotlyjs="inline" if not plotly_js_done else False,
                                     config={"displayModeBar": False}))
    if report.audit:
        parts.append(f"<h2>{e(_('Audit log'))}</h2><table><tr><th>{e(_('time (UTC)'))}</th><th>{e(_('who'))}</th>"
                     f"<th>{e(_('what'))}</th><th>{e(_('detail'))}</th></tr>")
        parts += [f"<tr><td>{e(a['at'])}</td><td>{e(a['actor'])}</td><td>{e(a['action'])}</td>"
                  f"<td>{e(a['detail'])}</td></tr>" for a in report.audit]
        parts.append("</table>")
    parts.append(f"<p><small>{e(_('Made with the MPC Trust Sandbox. Not legal advice.'))}</small></p></body></html>")
    return "\n".join(parts)


# ---------------------------------------------------------------------------------------------- PDF

def chart_pngs(figures: list[tuple[str, go.Figure]]) -> tuple[dict[str, bytes], str | None]:
    """PNG bytes per chart title, or ({}, reason) when kaleido cannot start a browser."""
    if not figures:
        return {}, None
    with _kaleido_lock:
        try:
            import kaleido

            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                kaleido.start_sync_server(silence_warnings=True)
                try:
                    return {t: f.to_image(format="png", width=860, height=380, scale=2) for t, f in figures}, None
                finally:
                    kaleido.stop_sync_server(silence_warnings=True)
        except Exception as exc:  # RuntimeError without Chromium; anything else: still make the PDF
            return {}, f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"


def to_pdf(report: WorkshopReport, *, with_charts: bool = True, lang: str | None = None) -> bytes:
    """The report as a PDF, in `lang` (default: the language it was collected in)."""
    from fpdf import FPDF

    if lang is not None:
        report.lang = lang
    _, lang = gettext_for(report.lang), report.lang
    figures = charts(report) if with_charts else []
    pngs, chart_error = chart_pngs(figures)

    pdf = FPDF()
    pdf.set_auto_page_break(True, margin=15)
    if (DEJAVU / "DejaVuSans.ttf").is_file() and (DEJAVU / "DejaVuSans-Bold.ttf").is_file():
        pdf.add_font("Body", "", str(DEJAVU / "DejaVuSans.ttf"))
        pdf.add_font("Body", "B", str(DEJAVU / "DejaVuSans-Bold.ttf"))
        font, clean = "Body", (lambda s: s)
    else:  # core font: Latin-1 only
        font, clean = "Helvetica", (lambda s: s.encode("latin-1", "replace").decode("latin-1"))
    pdf.add_page()

    def heading(text: str, size: int = 14) -> None:
        pdf.set_font(font, "B", size)
        pdf.multi_cell(0, size * 0.5, clean(text), new_x="LMARGIN", new_y="NEXT")
        pdf.ln(1)

    def para(text: str, size: int = 10) -> None:
        pdf.set_font(font, "", size)
        pdf.multi_cell(0, 5, clean(text), new_x="LMARGIN", new_y="NEXT")
        pdf.ln(1)

    heading(_("Workshop report: {title}").format(title=report.scenario_title), 18)
    para(_("SYNTHETIC DATA: no real person appears here") + ".")
    para(_made(report) + " " + report.description)
    if chart_error:
        para(_("Charts are not included: they could not be drawn on this machine ({error}). "
               "The HTML report has them.").format(error=chart_error))
    if report.steps:
        heading(_("Steps"))
        for i, s in enumerate(report.steps, 1):
            para(f"{i}. {s['title']} ({_('done') if s['done'] else _('not done')})")
    heading(_("Computations and revealed results"))
    if not report.runs:
        para(_("No computation was run."))
    for run in report.runs:
        heading(f"{run['label']}: {run.get('computation')}", 12)
        para(_("Organisations: {orgs}.").format(orgs=", ".join(run.get("parties") or []))
             + (" " + _("Approvals: {approvals}.").format(approvals=run["approvals"]) if run.get("approvals") else ""))
        rows = _revealed_rows(run.get("revealed"), lang)
        if rows:
            pdf.set_font(font, "", 9)
            with pdf.table(col_widths=(3, 2), text_align="LEFT") as table:
                table.row([_("cell"), _("revealed")])
                for c, v in rows[:60]:
                    table.row([clean(c), clean(v)])
            pdf.ln(2)
        png = pngs.get(f"{run['label']}: {run.get('computation')}")
        if png:
            pdf.image(png, w=180)
            pdf.ln(2)
    if report.estimates:
        heading(_("Size estimates (multiple systems estimation)"))
        for x in report.estimates:
            para(_("{label}: {observed} persons seen, estimated total {estimate}.").format(
                label=x["label"], observed=format_int(x["observed"], lang),
                estimate=format_decimal(x["estimate"], lang, 0)))
    if report.timeline:
        heading(_("Project timeline"))
        para(_timeline_text(report))
        png = pngs.get(_timeline_title(report))
        if png:
            pdf.image(png, w=180)
    if report.audit:
        heading(_("Audit log"))
        pdf.set_font(font, "", 8)
        with pdf.table(col_widths=(3, 2, 2, 6), text_align="LEFT") as table:
            table.row([_("time (UTC)"), _("who"), _("what"), _("detail")])
            for a in report.audit:
                table.row([clean(a["at"][:19]), clean(a["actor"]), clean(a["action"]), clean(a["detail"][:300])])
    para(_("Made with the MPC Trust Sandbox. Not legal advice."), 8)
    return bytes(pdf.output())
