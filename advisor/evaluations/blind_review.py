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


def answers_blinded(rows: list[dict], *, evaluation: Evaluation) -> list[dict]:
    """The report's side-by-side rows (report.answers_side_by_side) with the pair's answers as
    "Answer A" and "Answer B" in the review queue's order, marked `blind` so the page leaves out
    their figures; votes show as the answer they were cast on."""
    items = {item.pk: item for item in evaluation.suite.items.all()}
    blinded = []
    for row in rows:
        order = review_order(evaluation, items[row["item"]["id"]])
        labels = dict(zip(order, BLIND_LABELS))
        pair = sorted((c for c in row["columns"] if c["run"]["model"] in labels), key=lambda c: order.index(c["run"]["model"]))
        others = [c for c in row["columns"] if c["run"]["model"] not in labels]
        votes = row["item"]["votes"]
        blinded.append(row | {
            "columns": [c | {"name": labels[c["run"]["model"]], "blind": True} for c in pair] + others,
            "user": labels.get(votes["user_winner"], votes["user_winner"]),
            "judge": labels.get(votes["judge_winner"], votes["judge_winner"]),
        })
    return blinded
