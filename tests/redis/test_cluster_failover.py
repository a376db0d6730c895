"""Redis Cluster: a failover, or a master that stops answering, between a start and its
check: the store's direct route (``cluster_route.py``) hands over to the cluster client or
fails closed, and a code approves at most once. Each test has a cluster (and replica) of
its own."""

from __future__ import annotations

import asyncio
import contextlib
import time
from pathlib import Path

import pytest

from otpgate.core.errors import ChallengeExpired, InvalidCode, StorageUnavailable
from tests.redis.cluster_ops import (
    Gate,
    add_replica,
    link_up,
    owner,
    role,
    slot_of,
    wait,
    wrong,
)
from tests.redis.servers import Cluster, Process

pytestmark = pytest.mark.redis


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_a_failover_between_a_start_and_its_check_approves_once(
    tmp_path: Path, mode: str, loop: asyncio.AbstractEventLoop
):
    """A replica promoted by a manual failover (the old master answers MOVED), then the
    new master killed and the old one taking over (the connection refused)."""
    cluster = Cluster(tmp_path / "failover")
    replica: Process | None = None
    try:
        gate = Gate(cluster, "f:", mode, loop)
        # One subject, two challenges: one slot, whose master fails over twice.
        first, first_code = gate.start("gail", "+33612345700")
        second, second_code = gate.start("gail", "+33612345701")
        slot = slot_of("f:", first)
        assert slot_of("f:", second) == slot
        master = owner(cluster, slot)
        replica = add_replica(cluster, master, tmp_path / "replica")
        with replica.client() as client:
            client.execute_command("CLUSTER", "FAILOVER")  # waits for the replica to catch up
        wait(lambda: role(master) == "slave" and link_up(master), "the manual failover")
        with pytest.raises(InvalidCode):
            gate.check(first, wrong(first_code))
        assert gate.check(first, first_code) == "gail"
        assert gate.master_port(slot) == replica.port
        with pytest.raises(ChallengeExpired):
            gate.check(first, first_code)
        # The new master dies with every write copied; its replica (the old master) takes over.
        with replica.client() as client:
            assert client.execute_command("WAIT", 1, 5000) == 1
        replica.kill()
        with master.client() as client:
            client.execute_command("CLUSTER", "FAILOVER", "TAKEOVER")
        wait(lambda: role(master) == "master", "the takeover")
        assert gate.check(second, second_code) == "gail"  # refused, then handed on
        with pytest.raises(ChallengeExpired):
            gate.check(second, second_code)
        assert gate.master_port(slot) == master.port
        gate.close()
    finally:
        if replica is not None:
            replica.stop()
        cluster.stop()


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_a_master_that_stops_answering_fails_closed_and_approves_at_most_once(
    tmp_path: Path, mode: str, loop: asyncio.AbstractEventLoop
):
    """A timeout is not retried (the script may have run): the check fails closed, and
    once the master answers again the code approves at most once."""
    cluster = Cluster(tmp_path / "paused")
    try:
        gate = Gate(cluster, "t:", mode, loop)
        challenge_id, code = gate.start("hank", "+33612345702")
        master = owner(cluster, slot_of("t:", challenge_id))
        master.pause()
        try:
            began = time.monotonic()
            with pytest.raises(StorageUnavailable):
                gate.check(challenge_id, code)
            # One socket timeout (0.5 s) and a slot table refresh, not the cluster
            # client's four timeouts with back-off in between (over 2 s).
            assert time.monotonic() - began < 1.8
        finally:
            master.resume()
        cluster.wait_ok()
        approvals = 0
        for _ in range(2):
            with contextlib.suppress(ChallengeExpired):  # had the timed-out check run
                approvals += gate.check(challenge_id, code) == "hank"
        assert approvals <= 1
        gate.close()
    finally:
        cluster.stop()
