"""The report's charts as inline SVG, drawn on the server (like advisor/web/charts.py): numbers,
fixed strings and escaped catalogue names only, no script."""

import math

from django.utils.html import escape

WIDTH, PAD_LEFT, PAD_RIGHT, PAD_TOP = 640, 190, 30, 24
ROW = 44
COLOURS = ["#1b7f5b", "#8a3ffc", "#d97706", "#2563eb"]


def _short(name: str, length: int = 22) -> str:
    return name if len(name) <= length else name[: length - 1] + "…"


def _ticks(high: float) -> list[float]:
    """About five round ticks from 0 to `high`."""
    if high <= 0:
        return [0]
    step = 10 ** math.floor(math.log10(high / 5))
    for factor in (1, 2, 5, 10):
        if high / (step * factor) <= 6:
            step *= factor
            break
    return [i * step for i in range(int(high / step) + 1)]


def latency_chart_svg(figures: dict) -> str:
    """Total time of every done run, one row per model, with p50 and p95 marked."""
    rows = []
    for index, model in enumerate(figures["models"]):
        times = [run["total_ms"] for item in figures["items"] for run in item["runs"]
                 if run["model"] == model["model"] and run["status"] == "done" and run["total_ms"] is not None]
        rows.append((index, model, times))
    everything = [t for _, _, times in rows for t in times]
    if not everything:
        return ""
    high = max(everything) * 1.05 or 1
    height = PAD_TOP + ROW * len(rows) + 48
    plot_w = WIDTH - PAD_LEFT - PAD_RIGHT

    def x(value):
        return PAD_LEFT + value / high * plot_w

    parts = [f'<svg class="chart" viewBox="0 0 {WIDTH} {height}" role="img" aria-labelledby="latency-title" data-testid="latency-chart">',
             '<title id="latency-title">Total time of each run per model, in milliseconds, with p50 and p95 marked</title>']
    bottom = PAD_TOP + ROW * len(rows)
    parts.append(f'<line x1="{PAD_LEFT}" y1="{bottom}" x2="{WIDTH - PAD_RIGHT}" y2="{bottom}" class="axis"/>')
    for tick in _ticks(high):
        parts.append(f'<text x="{x(tick):.1f}" y="{bottom + 16}" text-anchor="middle" class="tick">{tick:,.0f}</text>')
    parts.append(f'<text x="{PAD_LEFT + plot_w / 2:.1f}" y="{bottom + 34}" text-anchor="middle" class="tick">total time per run (ms)</text>')
    for index, model, times in rows:
        colour = COLOURS[index % len(COLOURS)]
        y = PAD_TOP + ROW * index + ROW / 2
        parts.append(f'<text x="{PAD_LEFT - 8}" y="{y + 4:.1f}" text-anchor="end" class="legend" fill="{colour}">{escape(_short(model["name"]))}</text>')
        for t in times:
            parts.append(f'<circle cx="{x(t):.1f}" cy="{y:.1f}" r="4" fill="{colour}" fill-opacity="0.45"/>')
        for key, dash in (("p50", ""), ("p95", ' stroke-dasharray="3 2"')):
            value = model["total_ms"][key]
            if value is not None:
                parts.append(f'<line x1="{x(value):.1f}" y1="{y - 14:.1f}" x2="{x(value):.1f}" y2="{y + 14:.1f}" stroke="{colour}" stroke-width="2.5"{dash}>'
                             f'<title>{key} {value:,.0f} ms over {model["total_ms"]["count"]} runs</title></line>')
                # p50 above the row, p95 below it, so close values do not overlap.
                label_y = y - 17 if key == "p50" else y + 25
                parts.append(f'<text x="{x(value):.1f}" y="{label_y:.1f}" text-anchor="middle" class="tick">{key}</text>')
    parts.append("</svg>")
    return "".join(parts)


def quality_of(model: dict) -> tuple[dict | None, str]:
    """The quality figure a model is plotted at: the owner's votes, else the judge's, else reference checks."""
    if model.get("votes") and model["votes"]["compared"]:
        return model["votes"]["as_good_or_better"], "as good or better, by your votes"
    if model.get("judge") and model["judge"]["compared"]:
        return model["judge"]["as_good_or_better"], "as good or better, by the judge"
    if model["reference_checked"]:
        return model["reference_rate"], "reference checks passed"
    return None, ""


def cost_quality_chart_svg(figures: dict) -> str:
    """Cost per 1,000 requests (log scale) against quality (0–100 %, with the 95 % interval)."""
    points = []
    for index, model in enumerate(figures["models"]):
        quality, label = quality_of(model)
        if quality is None or quality["rate"] is None or model["cost_per_1k_requests_usd"] is None:
            continue
        points.append((index, model, quality, label))
    if not points:
        return ""
    height = 280
    plot_w, plot_h = WIDTH - 90 - PAD_RIGHT, height - PAD_TOP - 50
    costs = [max(model["cost_per_1k_requests_usd"], 1e-6) for _, model, _, _ in points]
    low, high = min(costs) / 3, max(costs) * 3

    def x(cost):
        return 90 + (math.log10(max(cost, 1e-6)) - math.log10(low)) / (math.log10(high) - math.log10(low)) * plot_w

    def y(share):
        return PAD_TOP + plot_h - share * plot_h

    parts = [f'<svg class="chart" viewBox="0 0 {WIDTH} {height}" role="img" aria-labelledby="quality-title" data-testid="cost-quality-chart">',
             '<title id="quality-title">Quality against cost per 1,000 requests (log scale), with 95 % intervals</title>',
             f'<line x1="90" y1="{PAD_TOP + plot_h}" x2="{WIDTH - PAD_RIGHT}" y2="{PAD_TOP + plot_h}" class="axis"/>',
             f'<line x1="90" y1="{PAD_TOP}" x2="90" y2="{PAD_TOP + plot_h}" class="axis"/>']
    for share in (0, 0.25, 0.5, 0.75, 1):
        parts.append(f'<text x="84" y="{y(share) + 4:.1f}" text-anchor="end" class="tick">{share:.0%}</text>')
    for decade in range(math.ceil(math.log10(low)), math.floor(math.log10(high)) + 1):
        parts.append(f'<text x="{x(10 ** decade):.1f}" y="{PAD_TOP + plot_h + 16}" text-anchor="middle" class="tick">${10 ** decade:g}</text>')
    parts.append(f'<text x="{90 + plot_w / 2:.1f}" y="{height - 12}" text-anchor="middle" class="tick">cost per 1,000 requests (USD, measured)</text>')
    for index, model, quality, label in points:
        colour = COLOURS[index % len(COLOURS)]
        cx, cy = x(model["cost_per_1k_requests_usd"]), y(quality["rate"])
        parts.append(f'<line x1="{cx:.1f}" y1="{y(quality["low"]):.1f}" x2="{cx:.1f}" y2="{y(quality["high"]):.1f}" stroke="{colour}" stroke-width="2"/>')
        parts.append(f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="6" fill="{colour}"><title>{escape(model["name"])}: {quality["rate"]:.0%} {label} '
                     f'(n={quality["of"]}), ${model["cost_per_1k_requests_usd"]:.4f} per 1,000</title></circle>')
        # Above the point, alternating with the row, so models at the same quality do not overlap.
        label_y = cy - 12 - 14 * (index % 2)
        parts.append(f'<text x="{cx:.1f}" y="{max(label_y, 12):.1f}" text-anchor="middle" class="legend" fill="{colour}">{escape(_short(model["name"]))}</text>')
    parts.append("</svg>")
    return "".join(parts)
