"""Hybrid: a cascade on the SLM's confidence, replayed and calibrated on the team's own votes.

Plain Python (no Django) except models.py, admin.py and services.py:
- cascade.py: the live rule `should_escalate(confidence, threshold)` / `escalation_decision`
  (with a reason in words), `confidence_signal(run_confidence, signal)`, and
  `cascade_figures(slm=RunFigures, llm=RunFigures | None)` for a cascade run's latency and cost.
- replay.py: `hybrid_replay(items=[ReplayItem, ...], threshold=None)` → HybridReplay (every
  threshold's point, PGR, APGR, CPT50/80, random and oracle baselines, bootstrap intervals);
  `replay_as_json(...)` is the body of GET /api/evaluations/<id>/hybrid.
- evaluation_items.py: ReplayItems from an evaluation's items in the CONTRACT's JSON shape.
- calibration.py: `hybrid_calibrate(items=..., target=Target(kind, value, requests_per_day))`
  → Calibration (threshold chosen on a seeded calibration split, figures on the held-out part).
- services.py: `hybrid_policy_save(owner=, slm=, llm=, calibration=, source_evaluation=)`.
"""
