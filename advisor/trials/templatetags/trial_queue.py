from django import template

from advisor.trials.queue_status import run_waiting_message

register = template.Library()


@register.filter
def waiting_message(run) -> str:
    """`{{ run|waiting_message }}`: what a queued run waits for (empty for other runs)."""
    return run_waiting_message(run)
