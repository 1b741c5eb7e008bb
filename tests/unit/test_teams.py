"""Team membership and roles (agents.teams), read alike by the gateway and the Agent Server."""

from __future__ import annotations

import time

import jwt
import pytest
from pydantic import ValidationError

from agents.credentials import CredentialSettings, CredentialVerifier, InvalidCredentials
from agents.teams import (
    Ability,
    NotAMember,
    Role,
    TeamSettings,
    may,
    refusal,
    role_in,
    roles_from_claim,
)

SETTINGS = TeamSettings(teams={"eng": {"alice": Role.ADMIN, "dave": Role.VIEWER}})


def test_a_token_s_claim_wins_for_the_teams_it_names():
    claims = {"teams": {"eng": "operator"}}
    assert role_in("eng", "dave", claims, SETTINGS) is Role.OPERATOR
    assert role_in("eng", "dave", {"teams": ["ops:viewer"]}, SETTINGS) is Role.VIEWER
    assert role_in("ops", "frank", {"teams": ["ops:approver"]}, SETTINGS) is Role.APPROVER


def test_not_a_member_anywhere_is_refused():
    with pytest.raises(NotAMember, match="not a member of team 'eng'"):
        role_in("eng", "erin", None, SETTINGS)
    with pytest.raises(NotAMember):
        role_in("eng", "erin", {"teams": {"ENG": "admin", "eng": "owner"}}, SETTINGS)


def test_claims_that_name_no_valid_team_or_role_are_ignored():
    assert roles_from_claim(["eng:admin", "bad", "Eng:viewer", 3, "ops:root"]) == {
        "eng": Role.ADMIN
    }
    assert roles_from_claim("eng:admin") == {}


def test_each_role_may_what_the_readme_says():
    allowed = {role: {a for a in Ability if may(role, a)} for role in Role}
    assert allowed == {
        Role.VIEWER: {Ability.READ},
        Role.OPERATOR: {Ability.READ, Ability.RUN},
        Role.APPROVER: {Ability.READ, Ability.APPROVE},
        Role.ADMIN: set(Ability),
    }
    assert may(None, Ability.DELETE)  # one's own space


def test_a_refusal_names_the_role_needed():
    assert refusal(Ability.RUN, "eng", Role.VIEWER) == (
        "'run' in team 'eng' needs the role operator or admin; you are viewer"
    )


def test_bad_team_names_and_roles_stop_the_process_at_start():
    with pytest.raises(ValidationError, match="team names"):
        TeamSettings(teams={"Eng Team": {"alice": "admin"}})
    with pytest.raises(ValidationError):
        TeamSettings(teams={"eng": {"alice": "owner"}})


async def test_no_user_may_be_named_like_a_team_s_space_or_dev():
    for reserved in ("team:eng", "dev"):  # dev: every caller while auth is off
        with pytest.raises(ValidationError, match="reserved"):
            CredentialSettings(api_keys={reserved: "k" * 20})
    verifier = CredentialVerifier(CredentialSettings(jwt_hs256_secret="s" * 32))
    token = jwt.encode({"sub": "team:eng", "exp": time.time() + 60}, "s" * 32)
    with pytest.raises(InvalidCredentials, match="reserved"):
        await verifier.verify(None, token)
    dev = jwt.encode({"sub": "dev", "exp": time.time() + 60}, "s" * 32)
    with pytest.raises(InvalidCredentials, match="reserved"):
        await verifier.verify(None, dev)
