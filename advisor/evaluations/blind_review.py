"""The report's answers while the owner's blind review is under way.

The review queue shows the pair's two answers to each item as left and right, in an order of their
own, so the vote is blind. The report must not give that away: until the review is done (the
evaluation has ended and the owner has voted on every item both models answered), each item's two
answers show as "Answer A" and "Answer B" in the review queue's order, with nothing that tells the
models apart — time, tokens, the reference check, error text (it names the model), the judge's
reasons. Other models than the pair are not reviewed and keep their names.
"""

from .models import Evaluation
from .services import review_next_item, review_order

BLIND_LABELS = ("Answer A", "Answer B")


def blind_review_pending(*, evaluation: Evaluation, voter) -> bool:
    if not evaluation.pair:
        return False
    return not evaluation.finished or review_next_item(evaluation=evaluation, voter=voter) is not None


def answer_table(*, evaluation: Evaluation, figures: dict, blind: bool) -> dict:
    """{"columns": [label, …], "rows": [{"item", "cells": [[run, …] per column], "user", "judge"}], "blind"}"""
    models = figures["models"]
    if not blind:
        columns = [model["name"] for model in models]
        rows = [{"item": item, "cells": [[run for run in item["runs"] if run["model"] == model["model"]] for model in models],
                 "user": item["votes"]["user_winner"], "judge": item["votes"]["judge_winner"]}
                for item in figures["items"]]
        return {"columns": columns, "rows": rows, "blind": False}
    others = [model for model in models if model["model"] not in evaluation.pair]
    items = {item.pk: item for item in evaluation.suite.items.all()}
    rows = []
    for item in figures["items"]:
        order = review_order(evaluation, items[item["id"]])
        labels = dict(zip(order, BLIND_LABELS))
        slugs = [*order, *(model["model"] for model in others)]
        rows.append({"item": item, "cells": [[run for run in item["runs"] if run["model"] == slug] for slug in slugs],
                     "user": labels.get(item["votes"]["user_winner"], item["votes"]["user_winner"]),
                     "judge": labels.get(item["votes"]["judge_winner"], item["votes"]["judge_winner"])})
    return {"columns": [*BLIND_LABELS, *(model["name"] for model in others)], "rows": rows, "blind": True}
