"""Replay items built from an evaluation's items in the CONTRACT's JSON shape."""

import pytest

from advisor.hybrid.evaluation_items import replay_items_from_evaluation, verdict_for_pair
from advisor.hybrid.replay import hybrid_replay

SLM, LLM = "smollm2-135m-instruct", "gpt-4o-mini"


def run(model, *, confidence=None, cost=0.0, status="done", passed=None, repeat=0):
    return {"model": model, "repeat": repeat, "status": status, "cost_usd": cost, "passed": passed,
            "confidence": None if confidence is None else {"score": confidence, "p10_token_prob": confidence}}


def test_votes_judges_and_reference_checks_become_verdicts_and_qualities():
    items = [
        {"index": 0, "runs": [run(SLM, confidence=0.9), run(LLM, cost=0.002)], "votes": {"user": SLM, "judge": LLM}},
        {"index": 1, "runs": [run(SLM, confidence=0.2), run(LLM, cost=0.002)], "votes": {"user": None, "judge": "left"}},
        {"index": 2, "runs": [run(SLM, confidence=0.5, passed=False), run(LLM, cost=0.002, passed=True)], "votes": {}},
        {"index": 3, "runs": [run(SLM, confidence=0.5), run(LLM, status="failed")], "votes": {"user": "tie"}},
        {"index": 4, "runs": [run(SLM), run(LLM, cost=0.001), run(LLM, cost=0.003, repeat=1)], "votes": {"user": "both_bad"}},
        {"index": 5, "runs": [run(SLM, confidence=0.4), run(LLM)], "votes": {"user": None}},
    ]
    replay_items = replay_items_from_evaluation(items=items, slm=SLM, llm=LLM, left_model=LLM)
    by_key = {item.key: item for item in replay_items}
    assert set(by_key) == {"0", "1", "2", "4", "5"}  # item 3: the LLM run failed
    assert by_key["0"].verdict == "slm"  # the owner's vote wins over the judge's
    assert by_key["1"].verdict == "llm"  # the judge said left, and the LLM was on the left
    assert (by_key["2"].verdict, by_key["2"].slm_quality, by_key["2"].llm_quality) == (None, 0.0, 1.0)
    assert by_key["4"].confidence is None and by_key["4"].llm_cost_usd == pytest.approx(0.002)
    assert by_key["5"].verdict is None and by_key["5"].slm_quality is None  # not voted
    assert by_key["1"].confidence == 0.2


def test_left_right_votes_need_to_know_the_left_model():
    with pytest.raises(ValueError, match="left_model"):
        verdict_for_pair("left", slm=SLM, llm=LLM)
    assert verdict_for_pair("right", slm=SLM, llm=LLM, left_model=LLM) == "slm"
    with pytest.raises(ValueError, match="names neither"):
        verdict_for_pair("other-model", slm=SLM, llm=LLM)


def test_an_evaluation_with_ten_votes_replays():
    items = [{"index": i, "runs": [run(SLM, confidence=i / 10), run(LLM, cost=0.002)],
              "votes": {"user": LLM if i < 4 else "tie"}} for i in range(10)]
    replay = hybrid_replay(items=replay_items_from_evaluation(items=items, slm=SLM, llm=LLM))
    # The four least confident are exactly the LLM's wins: escalating them recovers the whole gap.
    assert replay.items_voted == 10
    assert replay.points[4].llm_share == pytest.approx(0.4) and replay.points[4].pgr == pytest.approx(1)
