"""mockmail/login/policy.py: what a failed login costs."""

from __future__ import annotations

from mockmail.login.policy import LOGIN_ATTEMPTS, FailurePolicy, Penalty


def test_every_failure_is_held_and_the_last_allowed_one_closes() -> None:
    policy = FailurePolicy(delay=0.5)
    assert [policy.penalty(n) for n in range(1, LOGIN_ATTEMPTS + 1)] == [
        *[Penalty(0.5, None)] * (LOGIN_ATTEMPTS - 1),
        Penalty(0.5, "too many failed logins"),
    ]


def test_the_attempts_are_the_policy_s() -> None:
    assert FailurePolicy(attempts=1).penalty(1) == Penalty(0.0, "too many failed logins")
    assert FailurePolicy(attempts=5).penalty(4).close is None
