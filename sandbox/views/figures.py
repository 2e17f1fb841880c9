"""Plotly figures for the views (no Streamlit): large fonts, one colour per organisation everywhere."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd
import plotly.graph_objects as go

from sandbox.i18n import current_language, format_decimal, plotly_separators
from sandbox.i18n import gettext as _
from sandbox.views.labels import phase_label
from sandbox.views.ledger import seen_label
from sandbox.views.run_view import PartyView
from sandbox.views.uniformity import Uniformity

__all__ = [
    "JOINT_COLOUR",
    "big",
    "fig_attack",
    "fig_explainer",
    "fig_ledger",
    "fig_rounds",
    "fig_sequence",
    "fig_shares_histogram",
    "fig_tradeoff",
    "org_colours",
]

JOINT_COLOUR = "#6c757d"  # values that belong to no single organisation
_FALLBACK = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2")


def org_colours(scenario: Any, orgs: Sequence[str]) -> dict[str, str]:
    """The scenario's colour for each organisation (a fixed fallback palette for unknown ones)."""
    colours = {}
    for i, org in enumerate(orgs):
        try:
            colours[org] = scenario.org(org).colour
        except (KeyError, AttributeError):
            colours[org] = _FALLBACK[i % len(_FALLBACK)]
    return colours


def big(fig: go.Figure, *, height: int = 460) -> go.Figure:
    """Projector-ready layout: large fonts, white background, room for the legend."""
    fig.update_layout(
        font={"size": 18},
        height=height,
        template="plotly_white",
        margin={"l": 70, "r": 30, "t": 60, "b": 60},
        legend={"font": {"size": 16}},
        separators=plotly_separators(current_language()),
    )
    return fig


def fig_shares_histogram(u: Uniformity, *, colour: str = JOINT_COLOUR, title: str = "") -> go.Figure:
    centres = [(u.bin_edges[i] + u.bin_edges[i + 1]) / 2 for i in range(len(u.counts))]
    fig = go.Figure(
        go.Bar(x=centres, y=u.counts, width=0.9 / len(u.counts), marker_color=colour, name=_("shares received"))
    )
    fig.add_hline(
        y=u.expected,
        line_dash="dash",
        line_width=3,
        annotation_text=_("perfectly even"),
        annotation_font_size=16,
    )
    fig.update_xaxes(title=_("where the share lies in the field [0, p), as a fraction of p"), range=[0, 1])
    fig.update_yaxes(title=_("number of shares"))
    fig.update_layout(
        title=title or _("{n} shares: chi-square p = {chi}, KS p = {ks}").format(
            n=u.n, chi=format_decimal(u.chi_square_p, current_language(), 2),
            ks=format_decimal(u.ks_p, current_language(), 2)),
        showlegend=False,
    )
    return big(fig)


def fig_sequence(view: PartyView, colours: dict[str, str]) -> go.Figure:
    """A sequence diagram: one lane per organisation, one line per message, sender's colour."""
    msgs = view.messages
    lanes = [view.org] + [o for o in dict.fromkeys(msgs["peer_org"]) if o != view.org]
    y = {org: i for i, org in enumerate(lanes)}
    fig = go.Figure()
    for phase in view.phases:
        fig.add_vrect(
            x0=phase["begin"] * 1000,
            x1=phase["end"] * 1000,
            fillcolor="#e9ecef",
            opacity=0.5,
            line_width=0,
            annotation_text=phase_label(phase["name"]),
            annotation_position="top left",
            annotation_font_size=16,
        )
    for (peer, direction), group in msgs.groupby(["peer_org", "direction"], sort=False):
        sender, receiver = (view.org, peer) if direction == "sent" else (peer, view.org)
        xs, ys, text = [], [], []
        for r in group.itertuples():
            xs += [r.time * 1000, r.time * 1000, None]
            ys += [y[sender], y[receiver], None]
            label = (_("round {round}: {bytes} bytes sent to {peer}") if direction == "sent"
                     else _("round {round}: {bytes} bytes received from {peer}")).format(
                round=r.round, bytes=r.bytes, peer=peer)
            text += [label, label, None]
        fig.add_trace(
            go.Scatter(
                x=xs,
                y=ys,
                mode="lines+markers",
                line={"color": colours.get(sender, JOINT_COLOUR), "width": 2},
                marker={
                    "symbol": "arrow",
                    "angleref": "previous",
                    "size": 12,
                    "color": colours.get(sender, JOINT_COLOUR),
                },
                name=f"{sender} → {receiver}",
                text=text,
                hoverinfo="text",
            )
        )
    fig.update_yaxes(tickvals=list(y.values()), ticktext=list(y), title="", range=[-0.5, len(lanes) - 0.5])
    fig.update_xaxes(title=_("time since the party started (milliseconds)"))
    fig.update_layout(
        title=_("Messages of {org}: {messages} messages, {rounds} rounds").format(
            org=view.org, messages=len(msgs), rounds=msgs["round"].max() or 0)
    )
    return big(fig, height=max(420, 90 * len(lanes)))


def fig_rounds(view: PartyView) -> go.Figure:
    """Bytes per round (program-counter order), sent and received."""
    per = view.messages.groupby(["round", "direction"])["bytes"].sum().unstack(fill_value=0)
    fig = go.Figure()
    for direction, colour in (("sent", "#1f4e9c"), ("received", "#e76f51")):
        if direction in per:
            name = _("sent") if direction == "sent" else _("received")
            fig.add_trace(go.Bar(x=per.index, y=per[direction], name=name, marker_color=colour))
    fig.update_layout(barmode="group", title=_("Bytes per round"))
    fig.update_xaxes(title=_("round (program-counter order)"))
    fig.update_yaxes(title=_("bytes"))
    return big(fig, height=380)


def fig_ledger(table: pd.DataFrame, colours: dict[str, str]) -> go.Figure:
    """How many secret values each party (or 'joint') has in each visibility category."""
    counts = table.groupby(["owner", "seen_in_clear_by"], sort=False).size().reset_index(name="values")
    fig = go.Figure()
    for owner, group in counts.groupby("owner", sort=False):
        fig.add_trace(
            go.Bar(
                y=[seen_label(v) for v in group["seen_in_clear_by"]],
                x=group["values"],
                orientation="h",
                name=_("joint") if owner == "joint" else owner,
                marker_color=colours.get(owner, JOINT_COLOUR),
            )
        )
    fig.update_layout(barmode="stack", title=_("Who saw each secret value in the clear"))
    fig.update_xaxes(title=_("number of values"))
    return big(fig, height=380)


def fig_tradeoff(table: pd.DataFrame) -> go.Figure:
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=table["epsilon"],
            y=table["expected_abs_error"],
            name=_("expected absolute error"),
            mode="lines+markers",
            line={"width": 4, "color": "#1f4e9c"},
        )
    )
    fig.add_trace(
        go.Scatter(
            x=table["epsilon"],
            y=table["attacker_success"],
            name=_("attacker's success probability"),
            mode="lines+markers",
            line={"width": 4, "color": "#e76f51"},
            yaxis="y2",
        )
    )
    fig.add_trace(
        go.Scatter(
            x=table["epsilon"],
            y=table["dp_bound"],
            name=_("guaranteed upper bound (DP)"),
            mode="lines",
            line={"width": 2, "dash": "dash", "color": "#e76f51"},
            yaxis="y2",
        )
    )
    fig.update_layout(
        title=_("More noise (small epsilon): less accurate counts, a harder attack"),
        xaxis={"title": _("epsilon (privacy parameter)"), "type": "log", "tickvals": list(table["epsilon"])},
        yaxis={
            "title": _("expected absolute error (registrations)"),
            "type": "log",
            "tickvals": [0.01, 0.1, 1, 10, 100],
        },
        yaxis2={
            "title": _("attacker's success"),
            "overlaying": "y",
            "side": "right",
            "range": [0.45, 1.02],
            "tickvals": [0.5, 0.6, 0.7, 0.8, 0.9, 1.0],
        },
        legend={"x": 0.02, "y": -0.25, "orientation": "h"},
    )
    return big(fig, height=520)


def fig_attack(outcomes: Sequence[Any]) -> go.Figure:
    names = {
        "none": _("no protection"),
        "threshold": _("small-cell threshold"),
        "approval": _("query approval"),
        "noise": _("noise"),
    }
    fig = go.Figure()
    for query, colour in (("a", "#1f4e9c"), ("b", "#4c9be8")):
        xs, ys, text = [], [], []
        for o in outcomes:
            values = getattr(o, query)
            xs.append(names.get(o.protection, o.protection))
            v = None if values is None else values.get("all")
            ys.append(0 if v is None else v)
            text.append(_("refused") if values is None else (_("withheld") if v is None else str(v)))
        fig.add_trace(
            go.Bar(
                x=xs,
                y=ys,
                text=text,
                textposition="outside",
                name=_("query {name}").format(name=query.upper()),
                marker_color=colour,
                textfont={"size": 18},
            )
        )
    fig.update_layout(barmode="group", title=_("What the attacker got back (registrations in all)"))
    return big(fig)


def fig_explainer(
    shares: Sequence[int], modulus: int, orgs: Sequence[str], colours: dict[str, str]
) -> go.Figure:
    fractions = [int(s) / modulus for s in shares]
    fig = go.Figure(
        go.Bar(
            x=list(orgs),
            y=fractions,
            marker_color=[colours.get(o, JOINT_COLOUR) for o in orgs],
            text=[f"{f:.3f}·p" for f in fractions],
            textposition="outside",
            textfont={"size": 18},
        )
    )
    fig.update_yaxes(title=_("share (fraction of the field size p)"), range=[0, 1.1])
    fig.update_layout(title=_("One share per organisation: each looks like a random number"))
    return big(fig, height=420)
