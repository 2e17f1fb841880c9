"""Plotly figures for the size-estimate page (no Streamlit here)."""

from __future__ import annotations

from collections.abc import Sequence

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from .analysis import MSEResult
from .table import CaptureTable

FONT_SIZE = 17
BAR_COLOUR = "#1f4e79"
DOT_ON = "#1f4e79"
DOT_OFF = "#d9d9d9"
METHOD_LABELS = {
    "main": "Main effects (independent lists)",
    "stepwise": "Stepwise (p < 0.02)",
    "aic": "Best AIC",
    "bic": "Best BIC",
}


def method_label(method: str, pthresh: float = 0.02) -> str:
    """Readable name of a method."""
    if method == "stepwise":
        return f"Stepwise (p < {pthresh:g})"
    return METHOD_LABELS.get(method, method)


def upset_figure(table: CaptureTable, max_patterns: int = 40) -> go.Figure:
    """UpSet-style overlap chart: pattern-count bars above a list/pattern dot matrix."""
    frame = table.to_frame(include_zero=False).sort_values("count", ascending=False).head(max_patterns)
    x = list(range(len(frame)))
    labels = ["+".join(n for n in table.lists if row[n]) for _, row in frame.iterrows()]
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, row_heights=[0.62, 0.38], vertical_spacing=0.03)
    fig.add_trace(
        go.Bar(
            x=x,
            y=frame["count"],
            marker_color=BAR_COLOUR,
            text=frame["count"],
            textposition="outside",
            hovertext=labels,
            hoverinfo="text+y",
            name="people",
        ),
        row=1,
        col=1,
    )
    for col, (_, row) in zip(x, frame.iterrows(), strict=True):
        members = [name for name in table.lists if row[name]]
        fig.add_trace(
            go.Scatter(
                x=[col] * table.k,
                y=list(table.lists),
                mode="markers",
                hoverinfo="skip",
                marker={"size": 13, "color": [DOT_ON if n in members else DOT_OFF for n in table.lists]},
            ),
            row=2,
            col=1,
        )
        if len(members) > 1:
            fig.add_trace(
                go.Scatter(
                    x=[col] * len(members),
                    y=members,
                    mode="lines",
                    hoverinfo="skip",
                    line={"color": DOT_ON, "width": 3},
                ),
                row=2,
                col=1,
            )
    fig.update_layout(
        showlegend=False,
        font={"size": FONT_SIZE},
        height=560,
        bargap=0.25,
        title="Who is on which lists (one bar per combination)",
        margin={"l": 10, "r": 10, "t": 60, "b": 10},
    )
    fig.update_xaxes(showticklabels=False, row=2, col=1)
    fig.update_yaxes(title_text="people", type="log", row=1, col=1)
    fig.update_yaxes(categoryorder="array", categoryarray=list(reversed(table.lists)), row=2, col=1)
    return fig


def estimates_figure(
    results: Sequence[MSEResult], pthresh: float = 0.02, true_population: int | None = None
) -> go.Figure:
    """Horizontal bars of the estimate per model, with BCa intervals when known."""
    labels = [method_label(r.method, pthresh) for r in results]
    estimates = [r.estimate for r in results]
    plus = [(r.ci95[1] - r.estimate) if r.ci95 else None for r in results]
    minus = [(r.estimate - r.ci95[0]) if r.ci95 else None for r in results]
    fig = go.Figure(
        go.Bar(
            x=estimates,
            y=labels,
            orientation="h",
            marker_color=BAR_COLOUR,
            error_x={"type": "data", "array": plus, "arrayminus": minus, "thickness": 3, "width": 10},
            text=[f"{e:,.0f}" for e in estimates],
            textposition="inside",
            insidetextanchor="start",
            name="estimate",
        )
    )
    if results:
        _labelled_line(fig, results[0].observed, f"observed {results[0].observed:,}", "#555", "dot")
    if true_population:
        _labelled_line(fig, true_population, f"true {true_population:,}", "#c0392b", "solid")
    fig.update_layout(
        font={"size": FONT_SIZE},
        height=150 + 80 * max(len(results), 1),
        title="Estimated total population by model",
        xaxis_title="people",
        margin={"l": 10, "r": 10, "t": 90, "b": 10},
        showlegend=False,
    )
    fig.update_yaxes(autorange="reversed")
    return fig


def _labelled_line(fig: go.Figure, x: float, text: str, colour: str, dash: str) -> None:
    """Vertical reference line with its label above the plot area."""
    fig.add_vline(x=x, line_color=colour, line_dash=dash, line_width=3)
    fig.add_annotation(
        x=x,
        y=1.0,
        yref="paper",
        yanchor="bottom",
        text=text,
        showarrow=False,
        font={"color": colour, "size": FONT_SIZE - 2},
    )


def suppression_figure(
    points: Sequence[tuple[int, float | None]], observed: Sequence[int], current: int | None = None
) -> go.Figure:
    """Estimate (and observed total) as the minimum published cell size grows."""
    xs = [p[0] for p in points]
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=xs,
            y=[p[1] for p in points],
            mode="lines+markers",
            name="estimate",
            line={"color": BAR_COLOUR, "width": 3},
            marker={"size": 10},
        )
    )
    fig.add_trace(
        go.Scatter(
            x=xs,
            y=list(observed),
            mode="lines",
            name="observed after suppression",
            line={"color": "#888", "dash": "dot", "width": 2},
        )
    )
    if current is not None:
        fig.add_vline(x=current, line_color="#c0392b", line_width=2)
    fig.update_layout(
        font={"size": FONT_SIZE},
        height=380,
        title="Suppressing small cells changes the estimate",
        xaxis_title="smallest cell published (min_cell)",
        yaxis_title="people",
        margin={"l": 10, "r": 10, "t": 60, "b": 10},
        legend={"orientation": "h", "y": -0.25},
    )
    return fig
