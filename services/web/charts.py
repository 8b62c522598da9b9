"""Charts drawn on the server as SVG: no script, no library in the browser, readable offline.
Each chart names what it shows for screen readers; the page gives the numbers as a table too.
A chart reads left to right on every page (its axis is time), so its labels anchor the same
way on a right-to-left page."""
from __future__ import annotations

from datetime import date

from markupsafe import Markup, escape

WIDTH, HEIGHT, MARGIN = 600, 220, 40


def cumulative_chart(points: list[dict], label: str) -> Markup:
    """A step line of a running count over days: points are {"date": "YYYY-MM-DD", "count"},
    in order. One point or none draws a flat line or nothing (the table says the rest)."""
    if not points:
        return Markup("")
    days = [date.fromisoformat(p["date"]) for p in points]
    first, span = days[0], max((days[-1] - days[0]).days, 1)
    top = max(p["count"] for p in points) or 1
    plot_w, plot_h = WIDTH - 2 * MARGIN, HEIGHT - 2 * MARGIN

    def x(day: date) -> float:
        return MARGIN + plot_w * (day - first).days / span

    def y(count: int) -> float:
        return HEIGHT - MARGIN - plot_h * count / top

    path, previous = [], 0
    for day, point in zip(days, points, strict=True):
        path.append(f"L{x(day):.1f},{y(previous):.1f} L{x(day):.1f},{y(point['count']):.1f}")
        previous = point["count"]
    end_x = x(days[-1]) if len(days) > 1 else WIDTH - MARGIN
    line = f"M{x(first):.1f},{y(0):.1f} " + " ".join(path) + f" L{end_x:.1f},{y(previous):.1f}"
    summary = f"{label}: {points[-1]['count']} ({points[0]['date']} – {points[-1]['date']})"
    return Markup(
        f'<svg viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{escape(summary)}" '
        f'style="max-width:100%;height:auto;direction:ltr" xmlns="http://www.w3.org/2000/svg">'
        f"<title>{escape(summary)}</title>"
        f'<line x1="{MARGIN}" y1="{HEIGHT - MARGIN}" x2="{WIDTH - MARGIN}" y2="{HEIGHT - MARGIN}" stroke="#999"/>'
        f'<line x1="{MARGIN}" y1="{MARGIN}" x2="{MARGIN}" y2="{HEIGHT - MARGIN}" stroke="#999"/>'
        f'<text x="{MARGIN - 6}" y="{MARGIN + 4}" text-anchor="end" font-size="12">{top}</text>'
        f'<text x="{MARGIN - 6}" y="{HEIGHT - MARGIN + 4}" text-anchor="end" font-size="12">0</text>'
        f'<text x="{MARGIN}" y="{HEIGHT - MARGIN + 18}" font-size="12">{escape(points[0]["date"])}</text>'
        f'<text x="{WIDTH - MARGIN}" y="{HEIGHT - MARGIN + 18}" text-anchor="end" font-size="12">'
        f'{escape(points[-1]["date"])}</text>'
        f'<path d="{line}" fill="none" stroke="#c60" stroke-width="2"/></svg>')
