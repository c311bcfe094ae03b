"""Credentials from the environment or the seed, and fault-switch parsing."""

from __future__ import annotations

import pytest

from connector.errors import InputError
from connector.sandbox.auth import load_credentials
from connector.sandbox.faults import Faults, parse_assignments


def test_seeded_credentials_are_reproducible_and_env_wins() -> None:
    first = load_credentials(5, env={})
    assert load_credentials(5, env={}) == first
    assert load_credentials(6, env={}).password != first.password
    assert first.client_id.startswith("3MVG9")
    chosen = load_credentials(5, env={"SANDBOX_USERNAME": "me@corp.example",
                                      "SANDBOX_SECURITY_TOKEN": ""})  # fmt: skip
    assert chosen.username == "me@corp.example"
    assert chosen.password == first.password
    assert chosen.security_token == ""  # set but empty: log in with the bare password


def test_fault_assignments_are_validated() -> None:
    assert parse_assignments(["lock_rate=0.25", "apex_cpu_batch=100"]) == {
        "lock_rate": 0.25,
        "apex_cpu_batch": 100,
    }
    with pytest.raises(InputError, match="Unknown fault switch 'lockrate'"):
        parse_assignments(["lockrate=1"])
    with pytest.raises(InputError, match="between 0 and 1"):
        parse_assignments(["error_503_rate=2"])
    with pytest.raises(InputError, match="NAME=VALUE"):
        parse_assignments(["latency_ms"])


def test_fault_draws_follow_the_seed() -> None:
    a = Faults({"lock_rate": 0.5}, seed=9)
    b = Faults({"lock_rate": 0.5}, seed=9)
    assert [a.row_locked() for _ in range(50)] == [b.row_locked() for _ in range(50)]
    assert Faults({"apex_cpu_batch": 10}).apex_cpu_exceeded(11)
    assert not Faults({"apex_cpu_batch": 10}).apex_cpu_exceeded(10)
    assert not Faults().apex_cpu_exceeded(10_000)
