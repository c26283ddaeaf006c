"""A trial page's live columns as Server-Sent Events (served by advisor/web/streams.py).

Each event says what changed since the last one: `out-<column>` carries only the text a streaming
column added (escaped), `run-<column>` the whole column when its state changed (queued → running,
first token, done, failed), `after` the vote and actions once every run ended, then `ended`. An
event's id is the newest save it includes (ms since the epoch); a reconnect sends it back
(Last-Event-ID, or `?since=` from the page's own render) and gets every column saved after it whole.
"""

from dataclasses import dataclass, field

from django.template.loader import render_to_string
from django.utils.html import escape



def stamp_ms(moment) -> int:
    return int(moment.timestamp() * 1000)


def sse_event(name: str, data: str, event_id: int | None = None) -> str:
    lines = "".join(f"data: {line}\n" for line in data.split("\n"))
    return (f"id: {event_id}\n" if event_id is not None else "") + f"event: {name}\n{lines}\n"


def _shape(run: dict) -> tuple:
    """What a column shows besides its text: a change re-sends the whole column. A hybrid column
    shows phases and drafts, so any save of it does."""
    return (run["status"], run["progress"], run["ttft_ms"] is None, run["error"],
            run["updated_at"] if run["model_slug"] == "hybrid" else None)


@dataclass
class TrialStream:
    """What this connection's browser has: per run, its shape and how much text."""

    columns: dict[int, int]  # run pk → column on the page
    since: int  # the browser has every save up to this stamp
    sent: dict[int, tuple[tuple, int]] = field(default_factory=dict)

    def changes(self, runs: list[dict]) -> tuple[list[int], list[tuple[int, str]]]:
        """(runs to send whole, (column, added text) to append), and notes them as sent."""
        whole, appended = [], []
        for run in runs:
            shape, length = _shape(run), len(run["output"])
            known = self.sent.get(run["pk"])
            if known is None:
                if stamp_ms(run["updated_at"]) > self.since:
                    whole.append(run["pk"])
            elif known[0] != shape or length < known[1]:
                whole.append(run["pk"])
            elif length > known[1]:
                appended.append((self.columns[run["pk"]], run["output"][known[1]:]))
            self.sent[run["pk"]] = (shape, length)
        return whole, appended


def events_for(stream: TrialStream, runs: list[dict], appended: list[tuple[int, str]], rendered: list[tuple[int, str]]) -> list[str]:
    """The events that bring the browser up to `runs`: the text `appended` to columns and the
    columns `rendered` whole (from `stream.changes`). The browser then has every save up to the id."""
    event_id = max((stamp_ms(run["updated_at"]) for run in runs), default=stream.since)
    events = [sse_event(f"out-{column}", str(escape(text)), event_id) for column, text in appended]
    events += [sse_event(f"run-{column}", html, event_id) for column, html in rendered]
    stream.since = max(stream.since, event_id)
    return events


def render_columns(view, pks: list[int], request) -> list[tuple[int, str]]:
    """The page's column partial for these runs, as `view` (present_trial) shows them."""
    return [(rv.column, render_to_string("web/trial.html#run", {"trial": view.trial, "run": rv, "streamed": True}, request=request))
            for rv in view.runs if rv.run.pk in pks]
