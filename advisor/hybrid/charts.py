"""The calibration curve as inline SVG, drawn on the server from numbers only (like advisor/web/charts.py):
quality kept against the share of requests sent to the LLM, for the cascade, the random router (the
diagonal from SLM-only to LLM-only) and the oracle. No script, no style attributes (CSP)."""

WIDTH, HEIGHT, PAD_LEFT, PAD_BOTTOM, PAD_TOP, PAD_RIGHT = 640, 340, 60, 48, 20, 150
COLOURS = {"cascade": "#d97706", "random": "#8a949e", "oracle": "#1b7f5b", "chosen": "#8a3ffc"}


def calibration_chart_svg(replay: dict, chosen_threshold: float | None = None) -> str:
    """`replay` is replay_as_json(...) (the API's body); `chosen_threshold` marks a calibration's point."""
    points = sorted((p["llm_share"], p["quality"], p["threshold"]) for p in replay["points"])
    oracle = sorted((p["llm_share"], p["quality"]) for p in replay["oracle"]["points"])
    random = [(p["llm_share"], p["quality"]) for p in replay["random"]["points"]]
    qualities = [q for _, q, _ in points] + [q for _, q in oracle] + [q for _, q in random]
    low, high = min(qualities), max(qualities)
    low, high = max(0.0, low - 0.05), min(1.0, high + 0.05)
    if high - low < 0.1:
        low, high = max(0.0, low - 0.05), min(1.0, high + 0.05)
    plot_w, plot_h = WIDTH - PAD_LEFT - PAD_RIGHT, HEIGHT - PAD_TOP - PAD_BOTTOM

    def x(share: float) -> float:
        return PAD_LEFT + share * plot_w

    def y(quality: float) -> float:
        return PAD_TOP + plot_h - (quality - low) / (high - low or 1) * plot_h

    def polyline(pairs, colour, extra=""):
        coords = " ".join(f"{x(s):.1f},{y(q):.1f}" for s, q in pairs)
        return f'<polyline points="{coords}" fill="none" stroke="{colour}" stroke-width="2"{extra}/>'

    bottom = PAD_TOP + plot_h
    parts = [f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-labelledby="calibration-title" data-testid="calibration-chart">',
             '<title id="calibration-title">Quality against the share of requests sent to the large model: the cascade, a random router and the oracle</title>',
             f'<line x1="{PAD_LEFT}" y1="{bottom}" x2="{PAD_LEFT + plot_w}" y2="{bottom}" class="axis"/>',
             f'<line x1="{PAD_LEFT}" y1="{PAD_TOP}" x2="{PAD_LEFT}" y2="{bottom}" class="axis"/>']
    for tick in range(0, 11, 2):
        share = tick / 10
        parts.append(f'<text x="{x(share):.1f}" y="{bottom + 16}" text-anchor="middle" class="tick">{tick * 10}%</text>')
    parts.append(f'<text x="{PAD_LEFT + plot_w / 2:.1f}" y="{bottom + 36}" text-anchor="middle" class="tick">share of requests sent to the large model</text>')
    steps = 5
    for i in range(steps + 1):
        quality = low + (high - low) * i / steps
        parts.append(f'<text x="{PAD_LEFT - 8}" y="{y(quality) + 4:.1f}" text-anchor="end" class="tick">{quality:.2f}</text>')
    parts.append(f'<text x="14" y="{PAD_TOP + plot_h / 2:.1f}" text-anchor="middle" class="tick" transform="rotate(-90 14 {PAD_TOP + plot_h / 2:.1f})">quality</text>')

    parts.append(polyline(random, COLOURS["random"], ' stroke-dasharray="5 4" data-series="random"'))
    parts.append(polyline(oracle, COLOURS["oracle"], ' stroke-dasharray="2 3" data-series="oracle"'))
    parts.append(polyline([(s, q) for s, q, _ in points], COLOURS["cascade"], ' data-series="cascade"'))
    for share, quality, threshold in points:
        parts.append(f'<circle cx="{x(share):.1f}" cy="{y(quality):.1f}" r="3.5" fill="{COLOURS["cascade"]}" data-threshold="{threshold}">'
                     f'<title>threshold {threshold}: {share:.0%} to the large model, quality {quality:.2f}</title></circle>')
    if chosen_threshold is not None:
        chosen = [(s, q) for s, q, t in points if t == chosen_threshold]
        for share, quality in chosen[:1]:
            parts.append(f'<circle cx="{x(share):.1f}" cy="{y(quality):.1f}" r="7" fill="none" stroke="{COLOURS["chosen"]}" stroke-width="2.5" data-testid="chosen-point"/>')

    legend_x = PAD_LEFT + plot_w + 14
    for row, (series, label) in enumerate((("cascade", "cascade"), ("random", "random router"),
                                           ("oracle", "oracle"), ("chosen", "chosen threshold"))):
        ly = PAD_TOP + 12 + row * 20
        dash = {"random": ' stroke-dasharray="5 4"', "oracle": ' stroke-dasharray="2 3"'}.get(series, "")
        parts.append(f'<line x1="{legend_x}" y1="{ly}" x2="{legend_x + 18}" y2="{ly}" stroke="{COLOURS[series]}" stroke-width="2"{dash}/>')
        parts.append(f'<text x="{legend_x + 24}" y="{ly + 4}" class="tick">{label}</text>')
    parts.append("</svg>")
    return "".join(parts)
