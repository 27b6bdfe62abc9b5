"""mockmail/faults.py: plans, presets, and reproducible draws."""

from __future__ import annotations

import msgspec
import pytest

from mockmail.faults import (
    PROFILES,
    FaultPlan,
    FaultState,
    Knob,
    QuitFault,
    ScriptedReply,
    UnknownProfile,
    expand,
)


def test_empty_plan_is_compliant_and_costs_nothing() -> None:
    state = FaultState()
    assert not state.active
    faults = state.session_faults("bob")
    assert faults.fired == () and faults.quit is None and not faults.core.lax_states


def test_profile_expands_and_own_fields_override() -> None:
    plan = expand(FaultPlan(profile="mailpit-legacy", quit=QuitFault(reply="hang", commit=False)))
    assert plan.profile == "mailpit-legacy"
    assert plan.quit == QuitFault(reply="hang", commit=False)
    assert plan.size_format is not None and plan.size_format.format == "go-float"
    with pytest.raises(UnknownProfile, match="no fault profile 'nope'"):
        expand(FaultPlan(profile="nope"))


def test_legacy_preset_draws_every_quirk() -> None:
    state = FaultState()
    state.set_plan(FaultPlan(profile="mailpit-legacy"))
    faults = state.session_faults(None)
    assert faults.core.lax_states and faults.core.case_sensitive and faults.core.go_float_sizes
    assert faults.core.dot_stuffing == "none"
    assert faults.quit == QuitFault(reply="drop", commit=True)
    assert faults.ignore_message_argument and faults.errors_close and faults.deadline == 30.0


def test_times_counts_sessions_for_quirks() -> None:
    state = FaultState()
    state.set_plan(FaultPlan(quit=QuitFault(times=2)))
    assert [state.session_faults(None).quit is not None for _ in range(4)] == [True, True, False, False]


def test_probability_is_reproducible_from_the_seed() -> None:
    def draws(seed: int) -> list[bool]:
        state = FaultState()
        state.set_plan(FaultPlan(seed=seed, case_sensitive=Knob(probability=0.5)))
        return [state.session_faults(None).core.case_sensitive for _ in range(40)]

    assert draws(7) == draws(7)
    assert draws(7) != draws(8)
    assert 5 < sum(draws(7)) < 35


def test_mailbox_plan_overrides_after_login() -> None:
    state = FaultState()
    state.set_plan(FaultPlan(quit=QuitFault(reply="drop")))
    state.set_plan(FaultPlan(quit=QuitFault(reply="hang")), "bob")
    assert state.session_faults(None).quit == QuitFault(reply="drop")
    assert state.session_faults("bob").quit == QuitFault(reply="hang")
    assert state.session_faults("eve").quit == QuitFault(reply="drop")
    state.set_plan(FaultPlan(), "bob")
    assert "bob" not in state.mailbox_plans


def test_scripted_replies_match_and_count_occurrences() -> None:
    state = FaultState()
    reply = ScriptedReply(command="RETR", msg=2, line="-ERR [SYS/TEMP] try later", times=1)
    state.set_plan(FaultPlan(replies=[reply, ScriptedReply(command="STAT", line="-ERR no", user="eve")]))
    assert state.scripted_reply("bob", "RETR", 1) is None
    assert state.scripted_reply("bob", "RETR", 2) == ("replies[0]", "-ERR [SYS/TEMP] try later")
    assert state.scripted_reply("bob", "RETR", 2) is None  # times=1 is spent
    assert state.scripted_reply("bob", "STAT", None) is None
    assert state.scripted_reply("eve", "STAT", None) == ("replies[1]", "-ERR no")


def test_setting_a_plan_refills_times_and_bumps_the_version() -> None:
    state = FaultState()
    state.set_plan(FaultPlan(quit=QuitFault(times=1)))
    version = state.version
    assert state.session_faults(None).quit is not None
    assert state.session_faults(None).quit is None
    state.set_plan(FaultPlan(quit=QuitFault(times=1)))
    assert state.version == version + 1
    assert state.session_faults(None).quit is not None


def test_every_profile_is_a_valid_plan_with_a_source() -> None:
    for name, profile in PROFILES.items():
        assert profile.name == name and profile.source and profile.description
        assert msgspec.convert(msgspec.to_builtins(profile.plan), FaultPlan) == profile.plan


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"quit": {"reply": "maybe"}}, "quit.reply"),
        ({"quit": {"probability": 1.5}}, "quit.probability"),
        ({"replies": [{"command": "RETR", "line": "+OK fine"}]}, "replies[0].line"),
        ({"replies": [{"command": "FETCH", "line": "-ERR x"}]}, "replies[0].command"),
        ({"deadline": {"seconds": 0}}, "deadline.seconds"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_invalid_plans_name_the_field(body: dict[str, object], message: str) -> None:
    with pytest.raises(msgspec.ValidationError, match=message.replace("[", r"\[").replace("]", r"\]")):
        msgspec.convert(body, FaultPlan)


def test_every_quirk_field_is_drawn() -> None:
    from mockmail.faults._engine import _QUIRK_FIELDS

    assert set(_QUIRK_FIELDS) == set(FaultPlan.__struct_fields__) - {
        "profile",
        "seed",
        "replies",
        "transport",
        "smtp",  # drawn by the SMTP engine, for SMTP sessions only
        "imap",  # drawn by the IMAP engine, for IMAP sessions only
    }
    assert "line_endings" in _QUIRK_FIELDS and "order" in _QUIRK_FIELDS


def test_a_plan_without_core_quirks_keeps_the_compliant_core_instance() -> None:
    from mockmail.pop3 import COMPLIANT_QUIRKS

    state = FaultState()
    state.set_plan(FaultPlan(quit=QuitFault(), replies=[ScriptedReply(command="RETR", line="-ERR x")]))
    assert state.session_faults(None).core is COMPLIANT_QUIRKS  # the writer's fast path stays fast
    state.set_plan(FaultPlan(case_sensitive=Knob()))
    assert state.session_faults(None).core.case_sensitive
