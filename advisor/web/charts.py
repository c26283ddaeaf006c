"""The cost chart as inline SVG, drawn on the server from numbers only (no user text in it)."""

import math

WIDTH, HEIGHT, PAD_LEFT, PAD_BOTTOM, PAD_TOP, PAD_RIGHT = 640, 300, 70, 40, 20, 45
COLOURS = {"slm": "#1b7f5b", "llm": "#8a3ffc", "hybrid": "#d97706"}


def _log_scale(value: float, low: float, high: float, size: float) -> float:
    return (math.log10(value) - math.log10(low)) / (math.log10(high) - math.log10(low)) * size


def cost_chart_svg(points: list[dict], break_even: float | None, current: float | None) -> str:
    """Monthly cost (log) against requests per day (log) for each option, break-even marked."""
    options = [o for o in ("slm", "llm", "hybrid") if any(p.get(o) for p in points)]
    xs = [p["requests_per_day"] for p in points if p["requests_per_day"] > 0]
    ys = [p[o] for p in points for o in options if p.get(o)]
    if len(xs) < 2 or not ys:
        return ""
    x_low, x_high = min(xs), max(xs)
    y_low, y_high = max(min(ys), 0.01), max(ys)
    if y_high <= y_low:
        y_high = y_low * 10
    plot_w, plot_h = WIDTH - PAD_LEFT - PAD_RIGHT, HEIGHT - PAD_TOP - PAD_BOTTOM

    def x(value):
        return PAD_LEFT + _log_scale(value, x_low, x_high, plot_w)

    def y(value):
        return PAD_TOP + plot_h - _log_scale(max(value, y_low), y_low, y_high, plot_h)

    parts = [f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-labelledby="chart-title" data-testid="cost-chart">',
             '<title id="chart-title">Monthly cost in USD against requests per day, both on log scales</title>',
             f'<line x1="{PAD_LEFT}" y1="{PAD_TOP + plot_h}" x2="{WIDTH - PAD_RIGHT}" y2="{PAD_TOP + plot_h}" class="axis"/>',
             f'<line x1="{PAD_LEFT}" y1="{PAD_TOP}" x2="{PAD_LEFT}" y2="{PAD_TOP + plot_h}" class="axis"/>']
    for decade in range(math.ceil(math.log10(x_low)), math.floor(math.log10(x_high)) + 1):
        tx = x(10**decade)
        parts.append(f'<text x="{tx:.1f}" y="{HEIGHT - 22}" text-anchor="middle" class="tick">{10**decade:,.0f}</text>')
    for decade in range(math.ceil(math.log10(y_low)), math.floor(math.log10(y_high)) + 1):
        ty = y(10**decade)
        parts.append(f'<text x="{PAD_LEFT - 6}" y="{ty + 4:.1f}" text-anchor="end" class="tick">${10**decade:,.0f}</text>')
    parts.append(f'<text x="{PAD_LEFT + plot_w / 2}" y="{HEIGHT - 4}" text-anchor="middle" class="tick">requests per day</text>')
    for option in options:
        line = " ".join(f"{x(p['requests_per_day']):.1f},{y(p[option]):.1f}" for p in points if p.get(option) and p["requests_per_day"] > 0)
        parts.append(f'<polyline points="{line}" fill="none" stroke="{COLOURS[option]}" stroke-width="2.5"><title>{option.upper()}</title></polyline>')
    for i, option in enumerate(options):
        parts.append(f'<text x="{PAD_LEFT + 10 + i * 90}" y="{PAD_TOP + 12}" fill="{COLOURS[option]}" class="legend">■ {option.upper()}</text>')
    if break_even and x_low <= break_even <= x_high:
        bx = x(break_even)
        parts.append(f'<line x1="{bx:.1f}" y1="{PAD_TOP}" x2="{bx:.1f}" y2="{PAD_TOP + plot_h}" class="break-even" data-testid="break-even"/>')
        parts.append(f'<text x="{bx + 4:.1f}" y="{PAD_TOP + 28}" class="tick">break-even ≈ {break_even:,.0f}/day</text>')
    if current and x_low <= current <= x_high:
        cx = x(current)
        parts.append(f'<line x1="{cx:.1f}" y1="{PAD_TOP}" x2="{cx:.1f}" y2="{PAD_TOP + plot_h}" class="current"/>')
        parts.append(f'<text x="{cx + 4:.1f}" y="{PAD_TOP + plot_h - 6}" class="tick">you</text>')
    parts.append("</svg>")
    return "".join(parts)
