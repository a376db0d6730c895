"""The pre-encoded, pipelined driver of ``bench/cluster_masters.py`` (``pipelined.py``) sends
otpgate's real script calls, each to its slot's master: on a real Cluster every one is
accepted (no redirection, no error), a right code approves exactly once, a wrong one is
refused, and the challenges it spends are spent for ``Verifier.check`` too."""

from __future__ import annotations

import pytest

from otpgate import OutboxSender, Settings, Verifier
from otpgate.core.errors import ChallengeExpired
from otpgate.redis import RedisStore
from tests.conftest import KEY
from tests.redis import pipelined
from tests.redis.servers import Cluster

pytestmark = pytest.mark.redis


def test_pipelined_checks_go_to_each_slots_master_and_approve_exactly_once(
    redis_cluster: Cluster, prefix: str
):
    store = RedisStore.from_url(redis_cluster.url, prefix=prefix, cluster=True)
    gate = Verifier(Settings(secret_keys=(KEY,)), store=store, sender=OutboxSender())
    store.load_scripts()
    planned = pipelined.plan(gate, 300)
    owners = pipelined.slot_owners(redis_cluster.nodes[0].port)
    try:
        assert len({owners[slot] for slot, _ in planned.checks}) == 3  # spread over masters

        def drive(commands: list[pipelined.Command]) -> pipelined.Tally:
            return pipelined.drive(pipelined.by_master(commands, owners, batch=32))

        created = drive(planned.creates)
        assert created.results == {"ok": 300} and not created.errors
        wrong = drive(planned.wrong[:100])
        assert wrong.results == {"invalid": 100} and not wrong.errors
        approved = drive(planned.checks)
        assert approved.results == {"approved": 300} and not approved.errors
        again = drive(planned.checks)
        assert again.results == {"expired": 300} and not again.errors
        challenge_id, code = planned.ids[0]
        with pytest.raises(ChallengeExpired):
            gate.check(challenge_id, code)
    finally:
        store.close()


def test_a_check_sent_to_a_master_that_does_not_own_its_slot_is_an_error_not_a_count(
    redis_cluster: Cluster, prefix: str
):
    store = RedisStore.from_url(redis_cluster.url, prefix=prefix, cluster=True)
    gate = Verifier(Settings(secret_keys=(KEY,)), store=store, sender=OutboxSender())
    planned = pipelined.plan(gate, 20)
    owners = pipelined.slot_owners(redis_cluster.nodes[0].port)
    try:
        elsewhere = {
            slot: next(n.port for n in redis_cluster.nodes if n.port != port)
            for slot, port in owners.items()
        }
        tally = pipelined.drive(pipelined.by_master(planned.checks, elsewhere, batch=8))
        assert not tally.results
        assert sum(tally.errors.values()) == 20
        assert all(error.startswith("-MOVED") for error in tally.errors)
    finally:
        store.close()
