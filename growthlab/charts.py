"""Plotly figure builders. Each returns a go.Figure; pages only render them."""

from __future__ import annotations

from collections.abc import Collection
from datetime import date

import plotly.graph_objects as go

from growthlab.io import percent
from growthlab.okrs import NO_CHECKIN

STATUS_COLOURS = {"on track": "#2e7d32", "at risk": "#f9a825", "off track": "#c62828",
                  NO_CHECKIN: "#9e9e9e"}
WIN, LOSS, NEUTRAL, GAP = "#2e7d32", "#c62828", "#78909c", "#c62828"
_LAYOUT = dict(margin=dict(l=10, r=10, t=40, b=10), template="plotly_white")
# Plotly's default date ticks put the year on a second line, which the bottom margin cuts.
DATE_AXIS = dict(tickformat="%b %-d", hoverformat="%Y-%m-%d")
BAR_LABEL_ROOM = 0.3  # a bar this long holds "100% · off track" inside it


def forest(results: list[dict], names: dict[str, str] | None = None,
           lower_is_better: Collection[str] = ()) -> go.Figure:
    """Each comparison's effect with its interval; green/red when significant (green: the
    good way, down for metrics where lower is better)."""
    from growthlab.report import better  # the stats engine, only on pages that analyse

    names = names or {}
    relative = bool(results) and results[0]["difference"] == "relative"
    fig = go.Figure()
    labels = [f"{names.get(r['metric'], r['metric'])} · {r['variant']}" for r in results]
    number = ".1%" if relative else ".4g"
    for r, label in zip(results, labels, strict=True):
        good = better(r, r["metric"] in lower_is_better) > 0
        colour = NEUTRAL if not r["significant"] else (WIN if good else LOSS)
        low = r["ci_low"] if r["ci_low"] is not None else r["estimate"]
        high = r["ci_high"] if r["ci_high"] is not None else r["estimate"]
        fig.add_trace(go.Scatter(
            x=[r["estimate"]], y=[label], mode="markers", marker=dict(size=12, color=colour),
            error_x=dict(type="data", symmetric=False, array=[high - r["estimate"]],
                         arrayminus=[r["estimate"] - low], color=colour, thickness=3),
            showlegend=False,
            hovertemplate=f"{label}<br>effect %{{x:{number}}}<extra></extra>"))
    fig.add_vline(x=0, line_dash="dash", line_color="#555")
    fig.update_layout(**_LAYOUT, height=90 + 48 * len(results),
                      title="Effect of each variant with its interval",
                      xaxis_title="relative lift" if relative else "absolute difference")
    fig.update_yaxes(autorange="reversed")
    if relative:
        fig.update_xaxes(tickformat=".0%")
    return fig


def funnel_chart(rows: list[dict], gap: dict | None,
                 horizons: dict[str, int] | None = None) -> go.Figure:
    """Share of eligible users reaching each milestone; the success gap's target bar in red.

    Shares count users whose window has closed; users still inside it are named on hover.
    """
    horizons = horizons or {}
    colours = [GAP if gap and r["key"] == gap["to"] else "#1565c0" for r in rows]
    text, hover = [], []
    for r in rows:
        conversion = r["conversion_from_previous"]
        extra = "" if conversion is None else f" · {percent(conversion)} of previous"
        share = "not measurable yet" if r["share"] is None else percent(r['share'])
        text.append(f"{share} of {r['eligible']:,}{extra}")
        window = horizons.get(r["key"], 0)
        hover.append(f"{r['users']:,} users reached it in all; shares count the "
                     f"{r['eligible']:,} whose {window}-day window has closed"
                     if window else f"{r['users']:,} users reached it")
    fig = go.Figure(go.Bar(x=[r["share"] for r in rows], y=[r["name"] for r in rows],
                           orientation="h", marker_color=colours, text=text,
                           textposition="auto", customdata=hover,
                           hovertemplate="%{y}: %{customdata}<extra></extra>"))
    fig.update_layout(**_LAYOUT, height=80 + 50 * len(rows),
                      title="Share of users reaching each milestone (windows closed)",
                      xaxis_tickformat=".0%", xaxis_range=[0, 1])
    fig.update_yaxes(autorange="reversed")
    return fig


def cohort_lines(cohorts: list[dict], names: dict[str, str], keys: list[str],
                 horizons: dict[str, int] | None = None) -> go.Figure:
    """Each weekly cohort's share, among its users whose window has closed.

    A line stops where no user of the cohort is past the window yet; open markers are cohorts
    only partly past it, and the shaded band is where some milestone cannot be measured yet.
    """
    horizons = horizons or {}
    fig = go.Figure()
    open_from = None
    for key in keys:
        hover, symbols = [], []
        for c in cohorts:
            eligible = c["eligible"][key]
            if not eligible:
                open_from = min(open_from or c["cohort"], c["cohort"])
            symbols.append("circle" if eligible == c["users"] else "circle-open")
            hover.append(f"{eligible:,} of {c['users']:,} sign-ups are past the "
                         f"{horizons.get(key, 0)}-day window")
        fig.add_trace(go.Scatter(x=[c["cohort"] for c in cohorts],
                                 y=[c["shares"][key] for c in cohorts], mode="lines+markers",
                                 marker_symbol=symbols, customdata=hover,
                                 hovertemplate="%{x}: %{y:.1%}<br>%{customdata}<extra>"
                                               f"{names.get(key, key)}</extra>",
                                 name=names.get(key, key)))
    if open_from and cohorts:
        fig.add_vrect(x0=open_from, x1=cohorts[-1]["cohort"], fillcolor="#9e9e9e",
                      opacity=0.15, line_width=0, annotation_text="windows still open",
                      annotation_position="top left")
    fig.update_layout(**_LAYOUT, height=340, title="Share of each weekly sign-up cohort "
                      "(open markers: only part of the cohort is past the window)",
                      yaxis_tickformat=".0%", xaxis_title="sign-up week")
    return fig


def retention_heatmap(table) -> go.Figure:
    z = [[None if v is None else v for v in c["retention"]] for c in table.cohorts]
    text = [["" if v is None else percent(v) for v in c["retention"]] for c in table.cohorts]
    fig = go.Figure(go.Heatmap(
        z=z, x=[f"day {d}" for d in table.days],
        y=[f"{c['cohort']} ({c['users']:,})" for c in table.cohorts], text=text,
        texttemplate="%{text}", colorscale="Blues", zmin=0, zmax=1, showscale=False,
        hovertemplate="%{y} %{x}: %{z:.1%}<extra></extra>"))
    fig.update_layout(**_LAYOUT, height=80 + 28 * len(table.cohorts),
                      title="Retention by weekly sign-up cohort (blank: not enough days yet)")
    fig.update_yaxes(autorange="reversed")
    return fig


def key_result_history(view, today: date) -> go.Figure:
    """Check-ins against baseline, target, the pace line and the forecast.

    Built in one go from plain dicts: the OKRs page draws one per key result on every rerun,
    and plotly's add_trace/add_hline validate and copy the figure each time (4x slower)."""
    row = view.row
    start, end = date.fromisoformat(row["start_date"]), date.fromisoformat(row["end_date"])
    colour = STATUS_COLOURS[view.status]
    traces = [dict(type="scatter", x=[start, end], y=[row["baseline"], row["target"]],
                   mode="lines", name="pace", line=dict(dash="dot", color="#90a4ae"))]
    if view.checkins:
        traces.append(dict(type="scatter", x=[c["date"] for c in view.checkins],
                           y=[c["value"] for c in view.checkins], mode="lines+markers",
                           name="check-ins", line=dict(color=colour, width=3)))
    if view.forecast_value is not None and view.checkins:
        last = view.checkins[-1]
        traces.append(dict(type="scatter", x=[last["date"], end],
                           y=[last["value"], view.forecast_value], mode="lines",
                           name="forecast", line=dict(dash="dash", color=colour)))
    lines = [(row["target"], "#2e7d32", "target"), (row["baseline"], "#9e9e9e", "baseline")]
    shapes = [dict(type="line", xref="x domain", x0=0, x1=1, yref="y", y0=y, y1=y,
                   line=dict(color=c)) for y, c, _ in lines]
    notes = [dict(text=label, xref="x domain", x=1, xanchor="right", yref="y", y=y,
                  yanchor="bottom", showarrow=False) for y, _, label in lines]
    if start <= today <= end:
        shapes.append(dict(type="line", xref="x", x0=today.isoformat(), x1=today.isoformat(),
                           yref="y domain", y0=0, y1=1, line=dict(color="#bbb", dash="dot")))
    return go.Figure(data=traces, layout=dict(
        **_LAYOUT, height=280, legend=dict(orientation="h", y=-0.2), xaxis=DATE_AXIS,
        yaxis_title=row["unit"] or None, shapes=shapes, annotations=notes))


def progress_bars(views: list) -> go.Figure:
    """Key results' progress coloured by status, with a tick where pace says they should be."""
    labels = [_short(v.row["statement"]) for v in views]
    texts = [v.status if v.current is None else f"{v.progress:.0%} · {v.status}" for v in views]
    inside = [v.progress >= BAR_LABEL_ROOM for v in views]
    fig = go.Figure(go.Bar(
        x=[max(min(v.progress, 1.2), -0.2) for v in views], y=labels, orientation="h",
        marker_color=[STATUS_COLOURS[v.status] for v in views], text=texts,
        textposition=["inside" if fits else "none" for fits in inside],
        hovertemplate="%{y}<br>progress %{x:.0%}<extra></extra>", name="progress"))
    # A short or negative bar is labelled from zero rightwards: outside on its left, the
    # label ran past the axis and was cut ("rack" for "-8% · off track").
    short = [i for i, fits in enumerate(inside) if not fits]
    fig.add_trace(go.Scatter(x=[max(views[i].progress, 0) for i in short],
                             y=[labels[i] for i in short], text=[texts[i] for i in short],
                             mode="text", textposition="middle right", cliponaxis=False,
                             showlegend=False, hoverinfo="skip"))
    fig.add_trace(go.Scatter(x=[v.expected for v in views], y=labels, mode="markers",
                             marker=dict(symbol="line-ns", size=26, line=dict(width=3,
                                                                              color="#263238")),
                             name="pace (expected today)",
                             hovertemplate="expected %{x:.0%}<extra></extra>"))
    fig.update_layout(**_LAYOUT, height=70 + 56 * len(views), showlegend=True,
                      legend=dict(orientation="h", y=-0.25), xaxis=dict(range=[-0.2, 1.2],
                                                                        tickformat=".0%"))
    fig.update_yaxes(autorange="reversed")
    return fig


def confidence_trend(views: list) -> go.Figure:
    fig = go.Figure()
    for v in views:
        if v.checkins:
            fig.add_trace(go.Scatter(x=[c["date"] for c in v.checkins],
                                     y=[c["confidence"] for c in v.checkins],
                                     mode="lines+markers", name=_short(v.row["statement"], 32)))
    fig.update_layout(**_LAYOUT, height=260, title="Confidence at each check-in (0-10)",
                      xaxis=DATE_AXIS, yaxis=dict(range=[0, 10]),
                      legend=dict(orientation="h", y=-0.3))
    return fig


def coverage_heatmap(rows: list[dict], stages: list[tuple[str, str]], loops: list[str],
                     gap_key: str | None) -> go.Figure:
    """How many experiments touch each funnel stage x loop: where the team does not look."""
    counts = {(s, lp): 0 for s, _ in stages for lp in loops}
    for r in rows:
        if (r["milestone_key"], r["loop"]) in counts:
            counts[(r["milestone_key"], r["loop"])] += 1
    labels = [f"{name}{'  ◀ success gap' if key == gap_key else ''}" for key, name in stages]
    z = [[counts[(key, lp)] for lp in loops] for key, _ in stages]
    fig = go.Figure(go.Heatmap(z=z, x=loops, y=labels, text=z, texttemplate="%{text}",
                               colorscale="Greens", showscale=False,
                               hovertemplate="%{y} × %{x}: %{z} experiments<extra></extra>"))
    fig.update_layout(**_LAYOUT, height=80 + 45 * len(stages),
                      title="Experiments by funnel stage and loop")
    fig.update_yaxes(autorange="reversed")
    return fig


def cadence(weekly: list[dict]) -> go.Figure:
    fig = go.Figure()
    for name, colour in (("started", "#1565c0"), ("decided", "#2e7d32")):
        fig.add_trace(go.Bar(x=[w["week"] for w in weekly], y=[w[name] for w in weekly],
                             name=name, marker_color=colour))
    fig.update_layout(**_LAYOUT, height=260, barmode="group",
                      title="Experiments started and decided per week")
    return fig


def _short(text: str, width: int = 48) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def pmf_by_segment(overall: dict, segments: list[dict]) -> go.Figure:
    """Share answering "very disappointed" with its Wilson interval, overall and by segment,
    against the 40% line; green where the share reaches it."""
    rows = [{**overall, "segment": "All respondents"}, *segments]
    rows = [r for r in rows if r["share"] is not None]
    fig = go.Figure(go.Bar(
        x=[r["segment"] for r in rows], y=[r["share"] for r in rows],
        marker_color=[WIN if r["meets_40"] else NEUTRAL for r in rows],
        error_y=dict(type="data", symmetric=False, color="#263238",
                     array=[r["ci_high"] - r["share"] for r in rows],
                     arrayminus=[r["share"] - r["ci_low"] for r in rows]),
        text=[f"{r['share']:.0%} of {r['answered']:,}" for r in rows], textposition="inside",
        insidetextanchor="start",
        hovertemplate="%{x}: %{y:.1%} very disappointed<extra></extra>"))
    fig.add_hline(y=0.40, line_dash="dash", line_color=GAP,
                  annotation_text="40%: product-market fit", annotation_position="top left")
    fig.update_layout(**_LAYOUT, height=340, title="Very disappointed without the product "
                      "(95% Wilson interval)", yaxis=dict(tickformat=".0%", range=[0, 1]))
    return fig


def pmf_history(history: list[dict]) -> go.Figure:
    """The very-disappointed share of each survey over time, with its interval and the line."""
    rows = [h for h in history if h["share"] is not None]
    fig = go.Figure(go.Scatter(
        x=[h["taken_on"] for h in rows], y=[h["share"] for h in rows], mode="lines+markers",
        text=[h["survey"] for h in rows], name="very disappointed",
        error_y=dict(type="data", symmetric=False,
                     array=[h["ci_high"] - h["share"] for h in rows],
                     arrayminus=[h["share"] - h["ci_low"] for h in rows]),
        hovertemplate="%{text}: %{y:.1%}<extra></extra>"))
    fig.add_hline(y=0.40, line_dash="dash", line_color=GAP)
    fig.update_layout(**_LAYOUT, height=280, title="PMF share, survey by survey",
                      yaxis=dict(tickformat=".0%", range=[0, 1]))
    return fig
