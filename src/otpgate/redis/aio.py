"""``AsyncRedisStore``: the core's ``AsyncStore`` on Redis, for ``AsyncVerifier``.

Each method is one Lua script, one round trip (on a Cluster, a start's budgets are one
script per slot, pipelined: see ``budgets.py``). This is ``store.py`` with ``await``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

from redis.asyncio.cluster import RedisCluster
from redis.exceptions import NoScriptError

from otpgate.core.challenge import ChallengeRecord
from otpgate.core.policy import Budget, Denial, LockoutPolicy, Outcome, Result
from otpgate.core.pumping import Block, Watch
from otpgate.core.state_write import StateWrite
from otpgate.core.transactions import TxRecord, TxResult, TxStep

from . import keyed
from .budgets import report_unreleased, settle, unsure
from .cluster_route import async_sender
from .codec import FAILURES, Call, Codec, StaleApproval, unavailable
from .connect import AsyncClient, async_client, async_sentinel, decodes_responses
from .lean import lean_sender
from .once import Runs, counted_runs
from .records import as_text

T = TypeVar("T")

DEFAULT_PREFIX = "otpgate:"


class AsyncRedisStore:
    """Challenges, budgets, lockouts and TOTP replay markers in Redis, for ``AsyncVerifier``.

    ``client`` is a ``redis.asyncio.Redis`` (standalone or Sentinel ``master_for``) or a
    ``redis.asyncio.cluster.RedisCluster``. ``prefix`` starts every key, so several apps can
    share one Redis. Any Redis failure raises ``StorageUnavailable``: never an approval.
    Like its client, use it from one event loop (make it where that loop runs).
    """

    def __init__(self, client: AsyncClient, *, prefix: str = DEFAULT_PREFIX) -> None:
        self.client = client
        self._codec = Codec(prefix, binary=not decodes_responses(client))
        self._owned: list[Any] = []
        self._cluster = isinstance(client, RedisCluster)
        #: A state write rides on an approving check (``then_put``), in the check's script:
        #: not on a Cluster, where the state's key and the subject's lie in other slots.
        self.folds_state_writes = not self._cluster
        # on a Cluster: straight to the slot's master; else redis-py's steps without the
        # machinery a script call does not use (lean.py)
        self._send = lean_sender(client) or async_sender(client)

    @property
    def prefix(self) -> str:
        return self._codec.prefix

    @classmethod
    def from_url(
        cls, url: str, *, prefix: str = DEFAULT_PREFIX, cluster: bool = False, **options: Any
    ) -> AsyncRedisStore:
        """Connect to ``redis://``, ``rediss://``, ``unix://`` or
        ``redis+sentinel://host:port[,host:port]/service_name[/db]``; ``cluster=True`` for a
        Redis Cluster. ``options`` go to redis-py (e.g. ``socket_timeout``, default 0.5 s)."""
        client, sentinels = async_client(url, cluster=cluster, **options)
        store = cls(client, prefix=prefix)
        store._owned = [client, *sentinels]
        return store

    @classmethod
    def from_sentinel(
        cls,
        sentinels: Sequence[tuple[str, int] | str],
        service_name: str,
        *,
        prefix: str = DEFAULT_PREFIX,
        sentinel_kwargs: dict[str, Any] | None = None,
        **options: Any,
    ) -> AsyncRedisStore:
        """Use the master of ``service_name`` as the Sentinels report it (failover included).
        ``options`` (e.g. ``db``, ``password``) are for the master; ``sentinel_kwargs`` for
        the Sentinels themselves."""
        client, clients = async_sentinel(
            sentinels, service_name, sentinel_kwargs=sentinel_kwargs, **options
        )
        store = cls(client, prefix=prefix)
        store._owned = [client, *clients]
        return store

    async def aclose(self) -> None:
        """Close the connections this store opened (a client passed in stays open)."""
        for client in self._owned:
            await client.aclose()
        self._owned = []

    async def load_scripts(self) -> None:
        """Load every script now (optional: a missing script is loaded on first use)."""
        try:
            for script in self._codec.scripts.values():
                await self.client.script_load(script.text)
        except FAILURES as error:
            raise unavailable(error) from error

    async def _run(self, call: Call[T]) -> T:
        try:
            try:
                reply = await self._send(*call.evalsha())
            except NoScriptError:  # a restarted or new server: EVAL runs and caches it
                reply = await self._send(*call.eval())
            return call.decode(reply)
        except FAILURES as error:
            raise unavailable(error) from error

    async def _pipelined(self, calls: Sequence[Call[Any]]) -> list[object]:
        """The replies of ``calls`` run in one pipeline (each on its slot's master), an
        error in place of a reply; a script missing on a node is sent again as ``EVAL``."""
        client: Any = self.client
        try:
            pipe = client.pipeline()
            for call in calls:
                pipe.execute_command(*call.evalsha())
            replies: list[object] = await pipe.execute(raise_on_error=False)
        except FAILURES as error:
            return [error] * len(calls)
        for index, reply in enumerate(replies):
            if isinstance(reply, NoScriptError):
                try:
                    replies[index] = await client.execute_command(*calls[index].eval())
                except FAILURES as error:
                    replies[index] = error
        return replies

    async def _spend_in_slots(self, calls: Sequence[Call[Denial | None]]) -> Denial | None:
        replies = await self._pipelined(calls)
        denial, spent, failure = settle(calls, replies)
        if denial is not None or failure is not None:
            releases = [
                self._codec.release_budgets(calls[i], sure=not unsure(calls, replies, i))
                for i in spent
            ]
            if releases:  # best effort: see budgets.py
                report_unreleased(await self._pipelined(releases))
        if failure is not None:
            raise unavailable(failure) from failure
        return denial

    # -- the AsyncStore protocol ---------------------------------------------------------------

    async def spend_budgets(self, entries: Sequence[Budget | Watch], now: float) -> Denial | None:
        """Count one send against every budget, or none if one is spent, and judge it in
        the pumping guard's watched ranges, in the same script (one round trip)."""
        if not entries:
            return None
        calls = self._codec.spend_budgets(entries, now, self._cluster)
        if len(calls) == 1:
            return await self._run(calls[0])
        return await self._spend_in_slots(calls)

    async def pumping_blocks(self, now: float) -> list[Block]:
        """The ranges the pumping guard blocks (a ``SCAN``: on a Cluster, of every master)."""
        client: Any = self.client
        blocks = []
        try:
            async for key in client.scan_iter(match=self._codec.pumping_pattern(), count=1000):
                until, label = await client.hmget(key, "b", "p")
                if until is not None and float(until) > now:
                    core_key = self._codec.watch_core_key(as_text(key))
                    blocks.append(Block(core_key, as_text(label or b""), float(until)))
        except FAILURES as error:
            raise unavailable(error) from error
        return blocks

    async def lift_pumping_block(self, key: str) -> bool:
        """Lift the block of the range the core stores under ``key``, with its counts
        (otpgate.core.pumping.lift; an operator's act, not atomic with sends)."""
        client: Any = self.client
        try:
            redis_key = self._codec.budget_key(key)
            blocked = bool(await client.hexists(redis_key, "b"))
            await client.delete(redis_key)
            return blocked
        except FAILURES as error:
            raise unavailable(error) from error

    async def create_challenge(
        self, record: ChallengeRecord, subject_key: str, now: float, lockout: LockoutPolicy
    ) -> Outcome:
        """Keep ``record`` unless the subject is locked (LOCKED with retry_after)."""
        return await self._run(self._codec.create_challenge(record, subject_key, now, lockout))

    async def get_challenge(self, challenge_id: str) -> ChallengeRecord | None:
        """The record, or None once it is gone."""
        return await self._run(self._codec.get_challenge(challenge_id))

    async def reserve_send(
        self, challenge_id: str, now: float, cooldown_base: int, max_sends: int
    ) -> Outcome:
        """Count a resend: OK with the record, COOLDOWN, MAX_SENDS or EXPIRED."""
        return await self._run(
            self._codec.reserve_send(challenge_id, now, cooldown_base, max_sends)
        )

    async def mark_send_failed(self, challenge_id: str, now: float) -> None:
        """Delivery failed: status ``failed``, and the cooldown of that send given back."""
        await self._run(self._codec.mark_send_failed(challenge_id, now))

    async def check_code(
        self,
        challenge_id: str,
        code_digest: str,
        context_digest: str,
        now: float,
        max_attempts: int,
        lockout: LockoutPolicy,
        purpose: str = "",
        then_put: StateWrite | None = None,
    ) -> Outcome:
        """Check an SMS code atomically: APPROVED exactly once, or why not (one round trip);
        ``then_put`` is written in the same script if it approves (not on a Cluster)."""
        call = self._codec.check_code(
            challenge_id, code_digest, context_digest, now, max_attempts, lockout, purpose, then_put
        )
        if then_put is None:
            return await self._run(call)
        if self._cluster:
            raise ValueError("a Redis Cluster cannot fold a state write into a check")
        try:
            with counted_runs() as runs:  # a retried refusal forgets the state: see once.py
                outcome = await self._run(call)
        except StaleApproval:  # refused here after the script wrote: burn the state
            await self._run(keyed.put_state(self._codec, then_put.key, "", 0))
            return Outcome(Result.EXPIRED)
        return await self._settled(outcome, runs, then_put)

    async def settle_attempt(
        self,
        subject_key: str,
        success: bool,
        now: float,
        lockout: LockoutPolicy,
        totp_step: int | None = None,
        then_put: StateWrite | None = None,
    ) -> Outcome:
        """Record a TOTP or recovery check: APPROVED, INVALID, REPLAYED or LOCKED;
        ``then_put`` is written in the same script if it approves (not on a Cluster)."""
        if then_put is not None and self._cluster:
            raise ValueError("a Redis Cluster cannot fold a state write into a check")
        call = self._codec.settle_attempt(subject_key, success, now, lockout, totp_step, then_put)
        if then_put is None:
            return await self._run(call)
        with counted_runs() as runs:  # a retried refusal forgets the state: see once.py
            outcome = await self._run(call)
        return await self._settled(outcome, runs, then_put)

    async def _settled(self, outcome: Outcome, runs: Runs, then_put: StateWrite) -> Outcome:
        """``outcome`` of a check carrying ``then_put``; a retried one that did not approve
        may have approved (and written) on its first run, whose reply was lost: the state is
        forgotten (the token must pass again)."""
        if runs.retried and outcome.result is not Result.APPROVED:
            await self._run(keyed.put_state(self._codec, then_put.key, "", 0))
        return outcome

    async def cancel(self, challenge_id: str, now: float) -> bool:
        """Cancel a pending challenge; False if it was not pending."""
        return await self._run(self._codec.cancel(challenge_id, now))

    async def unlock(self, subject_key: str) -> None:
        """Forget the subject's failures and lift any lock, soft or hard."""
        await self._run(self._codec.unlock(subject_key))

    async def get_state(self, key: str) -> str | None:
        """The session/token state kept under ``key`` (a keyed digest), or None."""
        return await self._run(keyed.get_state(self._codec, key))

    async def put_state(self, key: str, value: str, ttl: int) -> None:
        """Keep ``value`` under ``key`` for ``ttl`` seconds, replacing any."""
        await self._run(keyed.put_state(self._codec, key, value, ttl))

    async def get_transaction(self, key: str, now: float) -> TxRecord | None:
        """A transaction's record as it reads at ``now``."""
        return await self._run(keyed.get_transaction(self._codec, key, now))

    async def step_transaction(self, key: str, step: TxStep, now: float, keep: int) -> TxResult:
        """Apply one transaction step atomically (one script, one round trip)."""
        return await self._run(keyed.step_transaction(self._codec, key, step, now, keep))
