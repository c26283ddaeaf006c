from django import template

register = template.Library()


@register.filter
def duration(ms) -> str:
    """Milliseconds as a person reads them: 850 ms · 12.3 s · 4 min 06 s ("–" when unknown)."""
    if ms is None or ms == "":
        return "–"
    ms = float(ms)
    if ms < 1000:
        return f"{ms:.0f} ms"
    seconds = ms / 1000
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest:02d} s"
