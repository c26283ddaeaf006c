"""The worker's side of the run life cycle: queues and routing, the periodic sweep, the heartbeat,
conditional status changes while a run streams."""

from advisor.celery import app as celery_app


def test_each_queue_has_its_own_routing_key():
    # Both queues were bound with the default key "api", so routing by exchange reached both.
    queues = celery_app.amqp.queues
    assert {name: queues[name].routing_key for name in ("local", "api")} == {"local": "local", "api": "api"}
