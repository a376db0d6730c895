"""The Redis store itself: protocol, records, keys, TTLs, memory, construction, failures."""

from __future__ import annotations

import base64
import inspect
import subprocess
import sys
import textwrap

import pytest
from redis.client import Redis
from redis.connection import SSLConnection
from redis.crc import key_slot

from otpgate import AsyncStore, OutboxSender, Settings, StorageUnavailable, Store, Verifier
from otpgate.core.challenge import ChallengeRecord, Status
from otpgate.core.memory_store import MemoryStore
from otpgate.core.policy import PART_CHARS, Budget, Denial, LockoutPolicy, Result
from otpgate.redis import AsyncRedisStore, RedisStore
from otpgate.redis.codec import Codec
from otpgate.redis.connect import SentinelUrl
from otpgate.redis.lua import scripts
from tests.conftest import KEY, PHONE
from tests.redis import servers

pytestmark = pytest.mark.redis

SUBJECT_KEY = "A" * 22
LOCKOUT = LockoutPolicy(after=5, base=60, maximum=900, hard_after=50, memory=86400)
NOW = 1_800_000_000.25


def _python(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=60
    )


def test_importing_without_redis_py_names_the_extra():
    result = _python(
        """
        import sys
        sys.modules["redis"] = None  # as if redis-py were not installed
        try:
            import otpgate.redis
        except ImportError as error:
            print(error)
        """
    )
    assert 'pip install "otpgate[redis]"' in result.stdout, result.stderr


def test_the_core_never_imports_redis():
    result = _python(
        """
        import sys
        import otpgate, otpgate.core
        assert not any(m == "redis" or m.startswith("redis.") for m in sys.modules), "redis"
        """
    )
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(("cls", "protocol"), [(RedisStore, Store), (AsyncRedisStore, AsyncStore)])
def test_methods_have_exactly_the_protocol_signatures(cls, protocol):
    names = [n for n in vars(protocol) if not n.startswith("_") and callable(vars(protocol)[n])]
    assert len(names) == 15  # with session state, transactions and pumping blocks
    for name in names:
        ours, theirs = getattr(cls, name), getattr(protocol, name)
        assert inspect.signature(ours) == inspect.signature(theirs), name
        assert inspect.iscoroutinefunction(ours) == inspect.iscoroutinefunction(theirs), name


def test_isinstance_of_the_protocols(redis_server):
    sync = RedisStore.from_url(redis_server.url)
    asynchronous = AsyncRedisStore.from_url(redis_server.url)
    assert isinstance(sync, Store)
    assert isinstance(asynchronous, AsyncStore)
    sync.close()


def _record(nonce: str = "n" * 22, **changes: object) -> ChallengeRecord:
    fields: dict[str, object] = {
        "id": f"{SUBJECT_KEY}.{nonce}",
        "purpose": "login",
        "masked_phone": "+33 ••• •• 5678",
        "sealed_subject": "abcdef." + "u" * 40,
        "sealed_delivery": "abcdef." + "p" * 96,
        "code_digest": "d" * 22,
        "created_at": NOW,
        "expires_at": NOW + 300,
        "next_send_at": NOW + 30,
    }
    fields.update(changes)
    return ChallengeRecord(**fields)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"sealed_subject": "ünïcødé ✓ 🙂", "sealed_delivery": "€1,250 ✓", "locale": "pt-BR"},
        {"sealed_subject": "x" * 255, "sealed_delivery": "€" * 64, "context_digest": "c" * 22},
        {"locale": "lone \udcff surrogate", "purpose": "transaction"},
        # not plain text between "|": written as format 2 (JSON), read back the same
        {"masked_phone": "+33 | 5678", "sealed_subject": "lone \udcff surrogate"},
        {"created_at": 1_715_000_000.123456, "expires_at": 1_715_000_300.123456},
        {"created_at": 0.1 + 0.2, "expires_at": 1e15 + 0.5, "next_send_at": 2.0**52 + 1},
        {"status": Status.FAILED, "attempts": 3, "sends": 4},
        # a "*" of its own: written as format 3, with the dots as they are
        {"masked_phone": "+33 *•• •• 5678"},
        {"masked_phone": "a••••@example.org", "purpose": "enroll"},
    ],
)
def test_a_record_reads_back_exactly(redis_server, prefix, changes):
    store = RedisStore.from_url(redis_server.url, prefix=prefix)
    record = _record(**changes)
    assert store.create_challenge(record, SUBJECT_KEY, NOW, LOCKOUT).result is Result.OK
    assert store.get_challenge(record.id) == record
    assert store.get_challenge(f"{SUBJECT_KEY}.{'o' * 22}") is None
    store.close()


def test_a_client_that_decodes_responses_works_too(redis_server, prefix):
    client = Redis.from_url(redis_server.url, decode_responses=True)
    store = RedisStore(client, prefix=prefix)
    record = _record(sealed_subject="ünïcødé" * 20, sealed_delivery="€" * 64)
    store.create_challenge(record, SUBJECT_KEY, NOW, LOCKOUT)
    assert store.get_challenge(record.id) == record
    store.close()  # a client passed in stays open
    assert client.ping()
    client.close()


def _keys(server: servers.Process, prefix: str) -> dict[str, int]:
    with server.client(decode_responses=True) as client:
        return {key: client.ttl(key) for key in client.scan_iter(f"{prefix}*")}


def test_keys_share_hash_tags_hold_no_phone_and_all_expire(redis_server, prefix):
    store = RedisStore.from_url(redis_server.url, prefix=prefix)
    gate = Verifier(Settings(secret_keys=(KEY,)), store=store, sender=OutboxSender())
    challenge = gate.start_sms("alice", PHONE, purpose="enroll", client_ip="192.0.2.1")
    with pytest.raises(Exception, match="not correct"):
        gate.check(challenge.id, "000000")
    gate.unlock("alice")
    keys = _keys(redis_server, prefix)
    subject_key = challenge.id.split(".")[0]
    subject_keys = {k: t for k, t in keys.items() if f"{{{subject_key}}}" in k}
    budget_keys = {k: t for k, t in keys.items() if "}:t" in k}
    ranges = {k: t for k, t in keys.items() if k.endswith(":bw")}
    assert len(subject_keys) == 3  # the challenge, the subject's failures and its budgets
    # the subject's record holds its own budget and its number's 15-minute and 1-day ones;
    # then the number's enrollment budget and the client IP's
    assert len(budget_keys) == 3
    assert len(ranges) == 2  # the pumping guard's prefix and country
    assert len(keys) == 7
    assert len({key_slot(k.encode()) for k in subject_keys}) == 1
    # Each budget has the hash tag of what it counts.
    assert len({key_slot(k.encode()) for k in budget_keys}) == 3
    (subject_record,) = (k for k in budget_keys if k.endswith(":ts"))
    assert keys[subject_record] > 3600  # kept for the family's longest window (a day)
    with redis_server.client(decode_responses=True) as client:
        (member,) = client.zrange(subject_record, 0, -1)
    part, dot, _ = member.partition(".")  # the send, noted with its number's part
    assert dot and len(part) == PART_CHARS
    for key, ttl in keys.items():
        assert PHONE.lstrip("+")[-6:] not in key
        assert "alice" not in key and "192.0.2.1" not in key
        # a range keeps its hourly baseline a day and an hour
        assert 0 < ttl <= (25 * 3600 if key in ranges else 86400), key
    challenge_key = Codec(prefix).challenge_key(challenge.id)
    assert 300 < keys[challenge_key] <= 360  # until it expires, plus a minute of grace
    store.close()


def test_a_budget_family_shares_one_record_of_sends(redis_server, prefix):
    """A number's short and long budgets (noted with its part): one sorted set, each budget
    counting its own window in it, answered as ``MemoryStore`` answers."""
    family = [Budget("phone", "p:f", 2, 60, "ab"), Budget("phone", "p:f", 3, 600, "ab")]
    store = RedisStore.from_url(redis_server.url, prefix=prefix)
    for spender in (MemoryStore(clock=lambda: 0.0), store):
        answers = [spender.spend_budgets(family, NOW + t) for t in (0, 1, 2, 61, 200, 601)]
        assert answers == [
            None,
            None,
            Denial("phone", 58.0),  # the 1-minute budget: the first send leaves it at 60
            None,  # the minute is over; the day counts 3 sends
            Denial("phone", 400.0),  # the 10-minute budget: the first send leaves it at 600
            None,  # the first two sends left the long window: 1 counted there, none in the short
        ], spender
    keys = _keys(redis_server, prefix)
    assert list(keys) == [Codec(prefix).budget_key("p:f")]
    assert 60 < keys[f"{prefix}{{f}}:tp"] <= 600  # the longest window
    with redis_server.client() as client:
        # 61 and 601 (0 and 1 left the long window), in whole microseconds
        sends = client.zrange(f"{prefix}{{f}}:tp", 0, -1, withscores=True)
        assert [score for _, score in sends] == [(NOW + 61) * 1e6, (NOW + 601) * 1e6]
    store.close()


def test_a_numbers_budgets_in_the_subjects_record_count_only_its_sends(redis_server, prefix):
    """Two numbers of one subject: each number's budget counts its own sends, the subject's
    counts them all (one sorted set), as ``MemoryStore`` answers."""

    def spend(number: str) -> list[Budget]:
        return [Budget("phone", "s:u", 2, 600, number), Budget("subject", "s:u", 3, 900)]

    store = RedisStore.from_url(redis_server.url, prefix=prefix)
    for spender in (MemoryStore(clock=lambda: 0.0), store):
        answers = [
            spender.spend_budgets(spend(number), NOW + t)
            for number, t in (("aa", 0), ("aa", 1), ("aa", 2), ("bb", 3), ("bb", 4))
        ]
        assert answers == [
            None,
            None,
            Denial("phone", 598.0),  # aa's two sends; its first leaves the window at 600
            None,  # bb's first: the subject's third send
            Denial("subject", 896.0),  # the subject's budget counts aa's sends too
        ], spender
    keys = _keys(redis_server, prefix)
    assert list(keys) == [f"{prefix}{{u}}:ts"]
    with redis_server.client() as client:
        assert sorted(m[:3] for m in client.zrange(f"{prefix}{{u}}:ts", 0, -1)) == [
            b"aa.",
            b"aa.",
            b"bb.",
        ]
    store.close()


def test_a_subjects_record_the_previous_release_wrote_counts_for_the_subject_only(
    redis_server, prefix
):
    """Sends the previous release noted in a subject's record (members without a part)
    still count against the subject's budget, and against no number's."""
    store = RedisStore.from_url(redis_server.url, prefix=prefix)
    with redis_server.client() as client:
        client.zadd(f"{prefix}{{u}}:ts", {"CQ-oUSA-rjlt": int(NOW * 1e6)})
        client.expire(f"{prefix}{{u}}:ts", 900)

    def spend(part: str) -> list[Budget]:
        return [Budget("phone", "s:u", 1, 600, part), Budget("subject", "s:u", 3, 900)]

    assert store.spend_budgets(spend("aa"), NOW + 1) is None  # the subject's second send
    assert store.spend_budgets(spend("aa"), NOW + 2) == Denial("phone", 599.0)
    assert store.spend_budgets(spend("bb"), NOW + 3) is None  # the subject's third
    # the old send keeps the subject's budget spent until it leaves the window at 900
    assert store.spend_budgets(spend("cc"), NOW + 4) == Denial("subject", 896.0)
    store.close()


def test_a_pending_challenge_takes_under_512_bytes(redis_server, prefix):
    store = RedisStore.from_url(redis_server.url, prefix=prefix)
    gate = Verifier(Settings(secret_keys=(KEY,)), store=store, sender=OutboxSender())
    plain = gate.start_sms("alice", PHONE, purpose="enroll")
    gate.credentials.add_phone("user-1234567890", PHONE)
    bound = gate.start_sms(
        "user-1234567890", PHONE, purpose="transaction", context={"amount": "12.50"},
        summary="Pay 12.50 EUR to ACME Ltd", locale="de",
    )  # fmt: skip
    codec = Codec(prefix)
    with redis_server.client() as client:
        for challenge in (plain, bound):
            key = codec.challenge_key(challenge.id)
            assert client.memory_usage(key) <= 512
    store.close()


def test_a_sign_in_code_takes_at_most_600_bytes_with_its_budgets(redis_server, prefix):
    """Distinct numbers, subjects and client IPs (``bench/redis.py``'s measure): the
    challenge, the subject's record of sends (with the number's) and the client IP's, per
    start; the pumping guard's ranges are shared by the numbers of one range."""
    store = RedisStore.from_url(redis_server.url, prefix=prefix)
    gate = Verifier(Settings(secret_keys=(KEY,)), store=store, sender=OutboxSender())
    count = 20
    for n in range(count):
        subject, phone = f"user-{n:07d}", f"+336{n:08d}"
        gate.credentials.add_phone(subject, phone)
        gate.start_sms(subject, phone, purpose="login", client_ip=f"198.51.0.{n}")
    with redis_server.client() as client:
        keys = list(client.scan_iter(f"{prefix}*"))
        assert len(keys) == 3 * count + 2
        total = sum(client.memory_usage(key, samples=0) for key in keys)
    assert total / count <= 600
    store.close()


def test_a_budget_without_a_part_counts_whole_seconds_never_less(redis_server, prefix):
    """A family without a part (a number's enrollment, a network's, a country's) notes a send
    at the whole second at or after it: it counts up to a second longer, never less, and its
    key of one send takes 16 bytes of listpack less; answered as ``MemoryStore`` answers."""
    family = [Budget("enrollment", "e:f", 2, 60), Budget("enrollment", "e:f", 3, 600)]
    store = RedisStore.from_url(redis_server.url, prefix=prefix)
    for spender in (MemoryStore(clock=lambda: 0.0), store):
        answers = [spender.spend_budgets(family, NOW + t) for t in (0, 1, 2, 60.5, 61, 200, 601)]
        assert answers == [
            None,
            None,
            Denial("enrollment", 58.75),  # the first send counts from NOW + 0.75
            Denial("enrollment", 0.25),  # so it is still in the minute at NOW + 60.5
            None,
            Denial("enrollment", 400.75),
            None,  # the first send left the 10 minutes at NOW + 600.75
        ], spender
    key = Codec(prefix).budget_key("e:f")
    with redis_server.client() as client:
        sends = client.zrange(key, 0, -1, withscores=True)
        assert [score for _, score in sends] == [NOW + 1.75, NOW + 61.75, NOW + 601.75]
        assert all(-4096 <= int(member) < 4096 for member, _ in sends)  # the small integer
        one = Codec(prefix).budget_key("e:g")
        assert store.spend_budgets([Budget("enrollment", "e:g", 1, 60)], NOW) is None
        assert client.memory_usage(one, samples=0) <= 16 + 16 + 24 + 32  # 16-byte listpack
    store.close()


def test_a_budget_without_a_part_notes_the_token_when_its_integer_is_taken(redis_server, prefix):
    """Two sends never count as one: where another send holds the integer, the send is
    noted under its token; a release gives back exactly the send it names."""
    store = RedisStore.from_url(redis_server.url, prefix=prefix)
    store.load_scripts()
    codec = Codec(prefix)
    budgets = [Budget("ip", "i:n", 5, 600)]
    (first,) = codec.spend_budgets(budgets, NOW)
    (second,) = codec.spend_budgets(budgets, NOW + 1)
    taken = str(first.args[1]).split(".")[0]
    second.args[1] = f"{taken}.{str(second.args[1]).split('.')[1]}"  # the same integer
    key = codec.budget_key("i:n")
    with redis_server.client() as client:
        for call in (first, second):
            assert client.execute_command(*call.evalsha()) is None
        members = client.zrange(key, 0, -1)
        assert len(members) == 2 and members[0] == taken.encode()
        assert client.execute_command(*codec.release_budgets(second).evalsha()) is None
        assert client.zrange(key, 0, -1) == [taken.encode()]  # the first send stays
        assert client.execute_command(*codec.release_budgets(first).evalsha()) is None
        assert client.zrange(key, 0, -1) == []
    store.close()


def test_the_release_of_a_failed_call_never_gives_back_another_send(redis_server, prefix):
    """A call that failed may not have run: its release must not take the small integer
    another send of the same second holds (that would let one send past the budget); it
    gives back its token only."""
    store = RedisStore.from_url(redis_server.url, prefix=prefix)
    store.load_scripts()
    codec = Codec(prefix)
    budgets = [Budget("ip", "i:u", 1, 600)]
    (held,) = codec.spend_budgets(budgets, NOW)
    (failed,) = codec.spend_budgets(budgets, NOW)  # the same second, never run
    taken = str(held.args[1]).split(".")[0]
    failed.args[1] = f"{taken}.{str(failed.args[1]).split('.')[1]}"  # the same integer
    key = codec.budget_key("i:u")
    with redis_server.client() as client:
        assert client.execute_command(*held.evalsha()) is None
        unsure = codec.release_budgets(failed, sure=False)
        assert client.execute_command(*unsure.evalsha()) is None
        assert client.zrange(key, 0, -1) == [taken.encode()]  # the other send still counts
        refused = store.spend_budgets(budgets, NOW + 1)  # the budget of 1 is still spent
        assert refused is not None and refused.scope == "ip"
        # A call that failed after counting its send under its token is given back.
        (late,) = codec.spend_budgets([Budget("ip", "i:v", 5, 600)], NOW)
        later = codec.spend_budgets([Budget("ip", "i:v", 5, 600)], NOW)[0]
        later.args[1] = f"{str(late.args[1]).split('.')[0]}.{str(later.args[1]).split('.')[1]}"
        for call in (late, later):
            assert client.execute_command(*call.evalsha()) is None
        assert client.zcard(codec.budget_key("i:v")) == 2
        back = codec.release_budgets(later, sure=False)
        assert client.execute_command(*back.evalsha()) is None
        assert client.zcard(codec.budget_key("i:v")) == 1  # its token, not the integer
    store.close()


def test_the_budgets_shared_across_accounts_take_a_short_key(redis_server, prefix):
    """A number's enrollment budget and a client network's are tagged with 72 bits of their
    keyed digest (12 characters): one send each takes 104 bytes (120 with the full 128-bit
    digest), and an enrollment code at most 660 with the budgets its start created (the pumping
    guard's ranges, shared by the numbers of one range, aside)."""
    store = RedisStore.from_url(redis_server.url, prefix=prefix)
    gate = Verifier(Settings(secret_keys=(KEY,)), store=store, sender=OutboxSender())
    count = 20
    for n in range(count):
        subject, phone = f"user-{n:07d}", f"+336{n:08d}"
        gate.start_sms(subject, phone, purpose="enroll", client_ip=f"198.51.0.{n}")
    with redis_server.client() as client:
        keys = list(client.scan_iter(f"{prefix}*"))
        assert len(keys) == 4 * count + 2
        sizes = {key: client.memory_usage(key, samples=0) for key in keys}
    shared = [key for key in keys if key.endswith((b":te", b":ti"))]
    assert len(shared) == 2 * count
    assert all(len(key.split(b"{")[1].split(b"}")[0]) == 12 for key in shared)
    assert max(sizes[key] for key in shared) <= 104
    own = [size for key, size in sizes.items() if not key.endswith(b":bw")]  # not shared
    assert sum(own) / count <= 660
    store.close()


def test_the_prefix_may_not_hold_a_hash_tag():
    with pytest.raises(ValueError, match="prefix"):
        RedisStore(Redis(), prefix="app:{x}:")


def test_two_prefixes_are_two_apps(redis_server, prefix):
    one = RedisStore.from_url(redis_server.url, prefix=prefix + "one:")
    two = RedisStore.from_url(redis_server.url, prefix=prefix + "two:")
    record = _record()
    one.create_challenge(record, SUBJECT_KEY, NOW, LOCKOUT)
    assert two.get_challenge(record.id) is None
    one.close()
    two.close()


def test_defaults_are_short_timeouts(redis_server):
    store = RedisStore.from_url(redis_server.url)
    kwargs = store.client.connection_pool.connection_kwargs
    assert kwargs["socket_timeout"] == 0.5
    assert kwargs["socket_connect_timeout"] == 0.5
    custom = RedisStore.from_url(redis_server.url, socket_timeout=2)
    assert custom.client.connection_pool.connection_kwargs["socket_timeout"] == 2
    store.close()
    custom.close()


def test_unix_socket_url(tmp_path):
    path = tmp_path / "redis.sock"
    server = servers.redis_server(tmp_path / "unix", None, "--unixsocket", str(path)).start()
    try:
        store = RedisStore.from_url(f"unix://{path}?db=0")
        record = _record()
        store.create_challenge(record, SUBJECT_KEY, NOW, LOCKOUT)
        assert store.get_challenge(record.id) == record
        store.close()
    finally:
        server.stop()


def test_rediss_url_uses_tls():
    store = RedisStore.from_url("rediss://127.0.0.1:6380/0")
    assert store.client.connection_pool.connection_class is SSLConnection
    store.close()


@pytest.mark.parametrize(
    ("url", "sentinels", "service", "db", "options"),
    [
        ("redis+sentinel://h1:26379/mymaster", [("h1", 26379)], "mymaster", 0, {}),
        (
            "redis+sentinel://:s3cret@h1:1,h2:2,[::1]:3/svc/4?socket_timeout=0.25",
            [("h1", 1), ("h2", 2), ("::1", 3)],
            "svc",
            4,
            {"password": "s3cret", "socket_timeout": 0.25},
        ),
        (
            "rediss+sentinel://u:p@h:5/s",
            [("h", 5)],
            "s",
            0,
            {"username": "u", "password": "p", "ssl": True},
        ),
    ],
)  # fmt: skip
def test_sentinel_urls(url, sentinels, service, db, options):
    assert SentinelUrl.parse(url) == SentinelUrl(sentinels, service, db, options)


@pytest.mark.parametrize(
    "url", ["redis+sentinel://h1:26379", "redis+sentinel:///svc", "redis+sentinel://h1/svc"]
)
def test_bad_sentinel_urls(url):
    with pytest.raises(ValueError, match=r"host:port|sentinel"):
        SentinelUrl.parse(url)


def test_nobody_listening_is_storage_unavailable_quickly():
    store = RedisStore.from_url(f"redis://127.0.0.1:{servers.free_port()}/0")
    with pytest.raises(StorageUnavailable):
        store.get_challenge(f"{SUBJECT_KEY}.{'n' * 22}")
    store.close()


def test_a_key_of_the_wrong_type_fails_closed(redis_server, prefix, caplog):
    store = RedisStore.from_url(redis_server.url, prefix=prefix)
    gate = Verifier(Settings(secret_keys=(KEY,)), store=store, sender=OutboxSender())
    challenge = gate.start_sms("alice", PHONE, purpose="enroll")
    code = gate.sender.last_code_for(PHONE)
    with redis_server.client() as client:
        client.set(Codec(prefix).challenge_key(challenge.id), "garbage", ex=60)
    with pytest.raises(StorageUnavailable) as raised:
        gate.check(challenge.id, code)
    text = str(raised.value) + repr(raised.value) + caplog.text
    assert code not in text
    assert PHONE not in text and PHONE[-4:] not in text
    store.close()


def test_a_missing_server_binary_fails_naming_the_package(monkeypatch):
    monkeypatch.setattr(servers.shutil, "which", lambda name: None)
    monkeypatch.setattr(servers.os.path, "exists", lambda path: False)
    with pytest.raises(pytest.fail.Exception, match=r"apt-get install redis-tools"):
        servers.binary("redis-cli")


def _raw(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def test_a_challenge_is_written_compactly(redis_server, prefix):
    """Format 6: the masked number's dots as "*", created_at as its distance to expires_at,
    an empty locale as nothing, a 16-character code digest, then the key id the sealed
    values share (3 bytes) and their bodies as raw bytes (the subject's after its length):
    a typical challenge takes 296 bytes of Redis memory (format 5: 328). It reads back
    exactly."""
    store = RedisStore.from_url(redis_server.url, prefix=prefix)
    record = _record(masked_phone="+33 ••• ••• 5678", code_digest="d" * 16)
    store.create_challenge(record, SUBJECT_KEY, NOW, LOCKOUT)
    key = Codec(prefix).challenge_key(record.id)
    with redis_server.client() as client:
        sealed = bytes.fromhex("abcdef") + bytes((30,)) + _raw("u" * 40) + _raw("p" * 96)
        assert client.get(key).endswith(
            f"|{'d' * 16}||6|login|+33 *** *** 5678|300||".encode() + sealed
        )
    assert store.get_challenge(record.id) == record
    outcome = store.check_code(record.id, "d" * 16, "", NOW + 1, 5, LOCKOUT, "login")
    assert outcome.result is Result.APPROVED and outcome.record is not None
    assert outcome.record.masked_phone == "+33 ••• ••• 5678"
    store.close()


@pytest.mark.parametrize(
    ("created_at", "sealed_delivery", "written"),
    [(0.1, "abcdef.p", "|4|"), (NOW, ".p", "|4|"), (NOW, "other.p", "|other.p|")],
)
def test_a_challenge_format_5_cannot_shorten_reads_back(
    redis_server, prefix, created_at, sealed_delivery, written
):
    """A created_at whose distance to expires_at does not read back exactly, a sealed
    delivery that starts with a dot: format 4 (in full); a sealed delivery with a key id of
    its own keeps it."""
    store = RedisStore.from_url(redis_server.url, prefix=prefix)
    record = _record(
        created_at=created_at, expires_at=NOW + 300.3, sealed_delivery=sealed_delivery, locale="de"
    )
    store.create_challenge(record, SUBJECT_KEY, NOW, LOCKOUT)
    with redis_server.client() as client:
        assert written.encode() in client.get(Codec(prefix).challenge_key(record.id))
    assert store.get_challenge(record.id) == record
    store.close()


@pytest.mark.parametrize(
    ("version", "masked"), [("4", "+33 *** *** 5678"), ("3", "+33 ••• ••• 5678")]
)
def test_a_challenge_the_previous_releases_wrote_reads_back_and_checks(
    redis_server, prefix, version, masked
):
    """Formats 4 and 3, as the previous releases wrote every challenge (a 22-character code
    digest, created_at and the sealed delivery in full): a challenge pending across the
    upgrade reads back and its right code (whose digest is now the first 16 characters) is
    approved, a wrong one is not; its purpose is still checked."""
    store = RedisStore.from_url(redis_server.url, prefix=prefix)
    full = "d" * 16 + "e" * 6
    record = _record(masked_phone="+33 ••• ••• 5678", code_digest=full)
    value = (
        f"p|0|1|{NOW + 30!r}|{NOW + 300!r}|{full}||{version}|login|{masked}|"
        f'{record.sealed_subject}|{record.sealed_delivery}|{NOW!r}|""'
    )
    key = Codec(prefix).challenge_key(record.id)
    with redis_server.client() as client:
        client.set(key, value, ex=360)
    assert store.get_challenge(record.id) == record
    wrong = store.check_code(record.id, "d" * 16, "", NOW + 1, 5, LOCKOUT, "transaction")
    assert wrong.result is Result.EXPIRED and wrong.record == record
    for digest in ("d" * 15 + "x", "d" * 15, "d" * 22):  # neither another nor a shorter one
        outcome = store.check_code(record.id, digest, "", NOW + 1, 5, LOCKOUT, "login")
        assert outcome.result is Result.INVALID
    outcome = store.check_code(record.id, "d" * 16, "", NOW + 1, 5, LOCKOUT, "login")
    assert outcome.result is Result.APPROVED and outcome.record is not None
    assert outcome.record.masked_phone == "+33 ••• ••• 5678"
    store.close()


@pytest.mark.parametrize(
    ("subject", "delivery", "written"),
    [
        ("abcdef." + _b64(b"|\xff\xfe|" * 9), "abcdef." + _b64(b"\xed\xa0\x80|" * 20), 6),
        ("abcdef.", "abcdef." + _b64(bytes(range(256))), 6),  # an empty body; every byte
        ("ABCDEF.uuuu", "ABCDEF.pppp", 5),  # a key id not as the keyring makes it
        ("abcdef." + _b64(b"x" * 256), "abcdef.pppp", 5),  # a subject body above 255 bytes
        ("abcdef.uuu", "abcdef.pppp", 5),  # not canonical base64url
        ("abcdef.uuuu", "other.pppp", 5),  # a key id of its own
    ],
)
def test_a_challenge_in_format_6_reads_back_exactly(
    redis_server, prefix, subject, delivery, written
):
    """Raw bytes that hold "|", invalid UTF-8 or encoded surrogates come back as they were;
    a record format 6 cannot hold exactly is written as text (format 5)."""
    store = RedisStore.from_url(redis_server.url, prefix=prefix)
    record = _record(sealed_subject=subject, sealed_delivery=delivery, locale="fr")
    store.create_challenge(record, SUBJECT_KEY, NOW, LOCKOUT)
    with redis_server.client() as client:
        assert f"|{written}|login|".encode() in client.get(Codec(prefix).challenge_key(record.id))
    assert store.get_challenge(record.id) == record
    outcome = store.check_code(record.id, "d" * 22, "", NOW + 1, 5, LOCKOUT, "login")
    assert outcome.result is Result.APPROVED and outcome.record is not None
    assert outcome.record.sealed_delivery == delivery
    store.close()


def test_a_challenge_in_format_6_keeps_text_that_is_not_ascii(redis_server, prefix):
    """A purpose and a masked text beyond ASCII next to the raw bytes read back as written."""
    store = RedisStore.from_url(redis_server.url, prefix=prefix)
    record = _record(purpose="vérifier✓", masked_phone="+33 ••• ••• 5678 ☎", locale="ü")
    store.create_challenge(record, SUBJECT_KEY, NOW, LOCKOUT)
    with redis_server.client() as client:
        value = client.get(Codec(prefix).challenge_key(record.id))
        assert "|6|vérifier✓|+33 *** *** 5678 ☎|300|".encode() in value
    assert store.get_challenge(record.id) == record
    outcome = store.check_code(record.id, "d" * 22, "", NOW + 1, 5, LOCKOUT, "vérifier✓")
    assert outcome.result is Result.APPROVED and outcome.record is not None
    assert outcome.record.purpose == "vérifier✓"
    store.close()


def test_a_client_that_decodes_replies_gets_challenges_as_text(redis_server, prefix):
    """With ``decode_responses`` (replies as text) the store writes format 5, which reads
    back through it."""
    record = _record(masked_phone="+33 ••• ••• 5678", code_digest="d" * 16)
    store = RedisStore.from_url(redis_server.url, prefix=prefix, decode_responses=True)
    store.create_challenge(record, SUBJECT_KEY, NOW, LOCKOUT)
    with redis_server.client() as client:
        assert b"|5|login|" in client.get(Codec(prefix).challenge_key(record.id))
    assert store.get_challenge(record.id) == record
    outcome = store.check_code(record.id, "d" * 16, "", NOW + 1, 5, LOCKOUT, "login")
    assert outcome.result is Result.APPROVED
    store.close()


def test_a_challenge_format_5_the_previous_release_wrote_reads_back_and_checks(
    redis_server, prefix
):
    """Format 5, as the previous release wrote every challenge: a challenge pending across
    the upgrade reads back, its purpose is checked, its right code approved."""
    store = RedisStore.from_url(redis_server.url, prefix=prefix)
    record = _record(masked_phone="+33 ••• ••• 5678", code_digest="d" * 16, locale="de")
    value = (
        f"p|0|1|{NOW + 30!r}|{NOW + 300!r}|{'d' * 16}||5|login|+33 *** *** 5678|"
        f'{record.sealed_subject}|.{"p" * 96}|300|"de"'
    )
    with redis_server.client() as client:
        client.set(Codec(prefix).challenge_key(record.id), value, ex=360)
    assert store.get_challenge(record.id) == record
    wrong = store.check_code(record.id, "d" * 16, "", NOW + 1, 5, LOCKOUT, "transaction")
    assert wrong.result is Result.EXPIRED
    assert store.check_code(record.id, "e" * 16, "", NOW + 1, 5, LOCKOUT, "login").result is (
        Result.INVALID
    )
    outcome = store.check_code(record.id, "d" * 16, "", NOW + 1, 5, LOCKOUT, "login")
    assert outcome.result is Result.APPROVED and outcome.record is not None
    store.close()


def test_a_damaged_format_6_challenge_fails_closed(redis_server, prefix):
    """Its sealed bytes cut short: expired, never approved, never a crash."""
    store = RedisStore.from_url(redis_server.url, prefix=prefix)
    record = _record(code_digest="d" * 16)
    store.create_challenge(record, SUBJECT_KEY, NOW, LOCKOUT)
    key = Codec(prefix).challenge_key(record.id)
    with redis_server.client() as client:
        value = client.get(key)
        client.set(key, value[: value.index(b"|6|") + 35], ex=360)
    outcome = store.check_code(record.id, "d" * 16, "", NOW + 1, 5, LOCKOUT, "login")
    assert outcome.result is Result.EXPIRED and outcome.record is None
    assert store.get_challenge(record.id) is None
    store.close()


def test_a_challenge_the_previous_release_wrote_reads_back(redis_server, prefix):
    """Format 2 (a JSON ``rest``), as an earlier release wrote every challenge:
    challenges pending across an upgrade keep working."""
    store = RedisStore.from_url(redis_server.url, prefix=prefix)
    record = _record(locale="fr", context_digest="c" * 22)
    rest = (
        f'[2,"login","+33 \\u2022\\u2022\\u2022 \\u2022\\u2022 5678","{record.sealed_subject}",'
        f'"{record.sealed_delivery}",{NOW!r},"fr"]'
    )
    value = f"p|0|1|{NOW + 30!r}|{NOW + 300!r}|{'d' * 22}|{'c' * 22}|{rest}"
    with redis_server.client() as client:
        client.set(Codec(prefix).challenge_key(record.id), value, ex=360)
    assert store.get_challenge(record.id) == record
    outcome = store.check_code(record.id, "d" * 22, "c" * 22, NOW + 1, 5, LOCKOUT, "login")
    assert outcome.result is Result.APPROVED
    store.close()


@pytest.mark.parametrize("json_rest", [False, True])
@pytest.mark.parametrize("failed_before", [False, True])
def test_a_check_answers_alike_on_the_hot_path_and_the_full_one(
    redis_server, prefix, json_rest, failed_before
):
    """The check script approves a right code for a subject with no failures before it even
    defines its helpers; every other case takes the full path. Both answer the same: a purpose
    of another challenge is expired (nothing counted), a wrong code or context counts, an
    expired challenge is expired, a right code approves once and its subject's failures are
    forgotten (``failed_before``: the subject has a state, the full path approves)."""
    store = RedisStore.from_url(redis_server.url, prefix=prefix)
    masked = "+33 | 5678" if json_rest else "+33 ••• •• 5678"  # "|": a format 2 record
    records = [_record(id=f"{SUBJECT_KEY}.{n:022d}", masked_phone=masked) for n in range(3)]
    for record in records:
        store.create_challenge(record, SUBJECT_KEY, NOW, LOCKOUT)
    if json_rest:
        with redis_server.client() as client:
            assert b"|[2," in client.get(Codec(prefix).challenge_key(records[0].id))
    one, two, late = records
    if failed_before:
        assert store.check_code(two.id, "x" * 22, "", NOW, 9, LOCKOUT).result is Result.INVALID
    other = store.check_code(one.id, "d" * 22, "", NOW + 1, 5, LOCKOUT, "transaction")
    assert other.result is Result.EXPIRED and other.record == one  # nothing counted
    right = store.check_code(one.id, "d" * 22, "", NOW + 2, 5, LOCKOUT, "login")
    assert right.result is Result.APPROVED and right.record is not None
    assert right.record == _record(id=one.id, masked_phone=masked, status=Status.APPROVED)
    again = store.check_code(one.id, "d" * 22, "", NOW + 3, 5, LOCKOUT, "login")
    assert again.result is Result.EXPIRED  # approved exactly once
    assert store.check_code(late.id, "d" * 22, "", NOW + 300, 5, LOCKOUT).result is Result.EXPIRED
    wrong = store.check_code(two.id, "d" * 22, "c" * 22, NOW + 4, 9, LOCKOUT, "login")
    assert (wrong.result, wrong.attempts_left) == (Result.CONTEXT_MISMATCH, 8 - failed_before)
    # Two failures (one without failed_before): the approval forgets them, so four more
    # wrong codes stay under the lockout's five.
    assert store.check_code(two.id, "d" * 22, "", NOW + 5, 9, LOCKOUT).result is Result.APPROVED
    fresh = _record(id=f"{SUBJECT_KEY}.{9:022d}", masked_phone=masked)
    store.create_challenge(fresh, SUBJECT_KEY, NOW + 5, LOCKOUT)
    for n in range(4):
        bad = store.check_code(fresh.id, "x" * 22, "", NOW + 6, 9, LOCKOUT)
        assert bad.result is Result.INVALID and not bad.locked_now, n
    store.close()


def test_each_script_defines_only_the_helpers_it_uses():
    """Redis runs a script's whole text on every call: a script carries the common.lua
    helpers it calls (and theirs), no other; the check script approves before any."""
    loaded = scripts()
    assert "local function" not in loaded["unlock"].text  # it calls none
    assert "local function parse_subject" not in loaded["get"].text
    settle = loaded["settle"].text
    assert "local function parse_subject" in settle and "local function num" in settle
    check = loaded["check"].text
    assert check.index("return 'approved|||0|'") < check.index("local function")
    assert "-- @helpers" not in check
