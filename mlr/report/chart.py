"""The report's chart: the metric of each experiment as a bar (mean, with ± sd whiskers over seeds), the
baseline grey, the best variant green, and the success line dashed. A small SVG written here (no plotting
library needed); every label is escaped."""

from __future__ import annotations

from html import escape

from mlr.report.model import Report

W, H = 720, 320
LEFT, RIGHT, TOP, BOTTOM = 70, 20, 30, 80
COLORS = {"baseline": "#8a8a8a", "best": "#2e8b57", "other": "#4a78b5"}


def num(value: float | None) -> str:
    """A number as the report writes it (6 significant digits: the notebooks' metrics are shown whole)."""
    return "–" if value is None else f"{value:.6g}"


def chart_svg(report: Report) -> str:
    rows = [r for r in report.experiments if r.measure.mean is not None]
    if not rows:
        return ""
    metric = report.outcome.metric if report.outcome else "metric"
    tops = [r.measure.mean + (r.measure.sd or 0) for r in rows]
    lows = [r.measure.mean - (r.measure.sd or 0) for r in rows]
    line = report.success_line
    hi = max(tops + ([line] if line is not None else []) + [0.0])
    lo = min(lows + ([line] if line is not None else []) + [0.0])
    span = (hi - lo) or 1.0
    hi += span * 0.08
    plot_w, plot_h = W - LEFT - RIGHT, H - TOP - BOTTOM

    def y(v: float) -> float:
        return TOP + plot_h * (hi - v) / (hi - lo)

    step = plot_w / len(rows)
    bar_w = min(60.0, step * 0.6)
    out = [(f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" viewBox="0 0 {W} {H}" '
            f'role="img" aria-label="{escape(metric)} per experiment" font-family="sans-serif" font-size="11">'),
           (f'<text x="{LEFT}" y="18" font-size="13" font-weight="bold">{escape(metric)} per experiment'
            f'{" (mean ± sd over seeds)" if any(r.measure.n > 1 for r in rows) else ""}</text>'),
           f'<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{TOP + plot_h}" stroke="#333"/>',
           f'<line x1="{LEFT}" y1="{y(0):.1f}" x2="{W - RIGHT}" y2="{y(0):.1f}" stroke="#333"/>']
    for tick in (lo, (lo + hi) / 2, hi):
        out.append(f'<text x="{LEFT - 6}" y="{y(tick) + 4:.1f}" text-anchor="end">{tick:.3g}</text>')
    for i, r in enumerate(rows):
        m = r.measure
        cx = LEFT + step * (i + 0.5)
        top, base = y(max(m.mean, 0.0)), y(min(m.mean, 0.0))
        out.append(f'<rect x="{cx - bar_w / 2:.1f}" y="{top:.1f}" width="{bar_w:.1f}" height="{max(base - top, 0.5):.1f}" '
                   f'fill="{COLORS[r.role]}"><title>{escape(r.label)}: {num(m.mean)}</title></rect>')
        if m.sd:
            out.append(f'<line x1="{cx:.1f}" y1="{y(m.mean + m.sd):.1f}" x2="{cx:.1f}" y2="{y(m.mean - m.sd):.1f}" '
                       'stroke="#111" stroke-width="1.5"/>')
        out.append(f'<text x="{cx:.1f}" y="{y(m.mean + (m.sd or 0)) - 4:.1f}" text-anchor="middle">{num(m.mean)}</text>')
        out.append(f'<text x="{cx:.1f}" y="{TOP + plot_h + 14}" text-anchor="end" '
                   f'transform="rotate(-30 {cx:.1f} {TOP + plot_h + 14})">{escape(r.label)}</text>')
    if line is not None:
        out.append(f'<line x1="{LEFT}" y1="{y(line):.1f}" x2="{W - RIGHT}" y2="{y(line):.1f}" stroke="#c0392b" '
                   'stroke-dasharray="6 4"/>')
        out.append(f'<text x="{W - RIGHT}" y="{y(line) - 4:.1f}" text-anchor="end" fill="#c0392b">success bar '
                   f'{num(line)}</text>')
    legend = [("baseline", "baseline"), ("best", "best variant"), ("other", "other")]
    for j, (role, words) in enumerate(legend):
        x = LEFT + j * 120
        out.append(f'<rect x="{x}" y="{H - 16}" width="10" height="10" fill="{COLORS[role]}"/>'
                   f'<text x="{x + 14}" y="{H - 7}">{words}</text>')
    out.append("</svg>")
    return "\n".join(out)
