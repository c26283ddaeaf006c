"""The one run core under trials, evaluations, the judge, the hybrid column and the gateway:
the spend ledger (ledger.py), claims, worker liveness and the heartbeat (core.py), the one
periodic sweep (sweep.py) and the failure-message policy (failures.py). Domain apps keep their own
rules on top and nothing here imports them (the runners it names still live in
advisor/trials/runners/, which know nothing of Django models)."""
