"""The guards' memory of "no second factor": trusted only for its subject, for ``recheck``
seconds, and never across a change of that subject's factors noted in this process."""

from __future__ import annotations

import pytest

from otpgate.core import factor_memory
from otpgate.core.events import Event, EventName
from otpgate.core.factor_memory import FactorChanges, memory, still_none


def changed(subject: str, at: float, name: EventName = EventName.FACTOR_ADDED) -> Event:
    return Event(name=name, subject=subject, at=at)


def test_a_fresh_memory_lets_its_subject_through_for_recheck_seconds():
    changes = FactorChanges()
    kept = memory("7", 100.0)
    assert still_none(kept, "7", 100.0, 60, changes)
    assert still_none(kept, "7", 159.9, 60, changes)
    assert not still_none(kept, "7", 160.0, 60, changes)  # older than recheck: ask again
    assert not still_none(kept, "8", 120.0, 60, changes)  # never another subject
    assert not still_none(kept, "7", 99.0, 60, changes)  # taken "in the future": distrust
    assert not still_none(kept, "7", 120.0, 0, changes)  # 0: ask on every request


@pytest.mark.parametrize(
    "remembered",
    [None, [], ["7", 100.0], {"subject": "7"}, {"subject": "7", "at": True}, {"at": 100.0}],
)
def test_anything_unreadable_means_asking_again(remembered):
    assert not still_none(remembered, "7", 110.0, 60, FactorChanges())


def test_a_change_of_that_subject_voids_it_even_at_the_same_instant():
    changes = FactorChanges()
    kept = memory("7", 100.0)
    changes.note(changed("8", 105.0))  # someone else's change: no effect
    changes.note(changed("7", 90.0, EventName.CHALLENGE_SENT))  # not a change of factors
    assert still_none(kept, "7", 110.0, 60, changes)
    changes.note(changed("7", 100.0, EventName.FACTOR_REMOVED))
    assert not still_none(kept, "7", 110.0, 60, changes)
    assert still_none(memory("7", 100.5), "7", 110.0, 60, changes)  # a later lookup counts
    changes.forget()
    assert still_none(kept, "7", 110.0, 60, changes)


def test_past_the_bound_every_older_memory_is_void(monkeypatch):
    monkeypatch.setattr(factor_memory, "PRUNE_AT", 3)
    changes = FactorChanges()
    early = memory("quiet", 50.0)
    for index, at in enumerate((60.0, 70.0, 80.0, 90.0)):
        changes.note(changed(f"s{index}", at))
    assert changes.changed_at("quiet") == 80.0  # the floor of the pruned changes
    assert not still_none(early, "quiet", 100.0, 60, changes)
    assert still_none(memory("quiet", 85.0), "quiet", 100.0, 60, changes)
