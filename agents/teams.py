"""Teams: who belongs to which team, with which role, and what each role may do.

Read by the gateway and the Agent Server's auth alike, per request, from the same
settings (`THREADGATE_TEAMS`) and, for JWT users, from a claim of their token
(`THREADGATE_JWT_TEAMS_CLAIM`), so a new token takes effect at once.

A caller acts in one space per request: their own (no team named) or a team's (the
`x-threadgate-team` header). What they create belongs to that space: its `owner`
label is their user id or `team:<name>`, and every access is filtered by one equality
on it, the only kind of filter both Agent Server runtimes are documented to honour.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from enum import StrEnum
from functools import cache
from typing import Any

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# Sent by the gateway (and SDK scripts) to act in a team rather than one's own space.
TEAM_HEADER = "x-threadgate-team"
# Next to the service key, the gateway also says the role it found for the user.
ROLE_HEADER = "x-threadgate-role"
# Owner labels of team spaces; user ids may not start with it (a user named
# "team:eng" would otherwise act as team eng).
TEAM_PREFIX = "team:"

TEAM_NAME_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,62}$"
_TEAM_NAME = re.compile(TEAM_NAME_PATTERN)


class Ability(StrEnum):
    """What an action needs. Every route and Agent Server action needs one of these."""

    READ = "read"  # threads, state, history, streams, audit, library, schedules
    RUN = "run"  # execute, pause, cancel, fork, resume paused/failed, save, schedules
    APPROVE = "approve"  # answer an approval
    DELETE = "delete"  # delete threads and saved workflows


class Role(StrEnum):
    VIEWER = "viewer"
    OPERATOR = "operator"
    APPROVER = "approver"
    ADMIN = "admin"


ABILITIES: dict[Role, frozenset[Ability]] = {
    Role.VIEWER: frozenset({Ability.READ}),
    Role.OPERATOR: frozenset({Ability.READ, Ability.RUN}),
    Role.APPROVER: frozenset({Ability.READ, Ability.APPROVE}),
    Role.ADMIN: frozenset(Ability),
}
# The least role that has each ability (named in a 403, and in the README's table).
LEAST_ROLE: dict[Ability, Role] = {
    Ability.READ: Role.VIEWER,
    Ability.RUN: Role.OPERATOR,
    Ability.APPROVE: Role.APPROVER,
    Ability.DELETE: Role.ADMIN,
}


def may(role: Role | None, ability: Ability) -> bool:
    """Whether a caller with this role may do what needs `ability`. None: the caller
    acts in their own space, where they may do everything."""
    return role is None or ability in ABILITIES[role]


def refusal(ability: Ability, team: str, role: Role) -> str:
    """The reason a member is refused, naming the role needed."""
    least = LEAST_ROLE[ability]
    others = "" if least is Role.ADMIN else f" or {Role.ADMIN.value}"
    return (
        f"'{ability.value}' in team '{team}' needs the role {least.value}{others}; "
        f"you are {role.value}"
    )


def team_owner(team: str) -> str:
    """The owner label of a team's space."""
    return TEAM_PREFIX + team


def valid_team_name(name: str) -> bool:
    return _TEAM_NAME.fullmatch(name) is not None


class NotAMember(Exception):
    """The caller named a team they do not belong to (or a name no team can have)."""


class TeamSettings(BaseSettings):
    """Who belongs to which team; checked when the process starts."""

    model_config = SettingsConfigDict(
        env_prefix="THREADGATE_", extra="ignore", env_ignore_empty=True
    )

    teams: dict[str, dict[str, Role]] = Field(
        default_factory=dict,
        description='Team to members and their roles: {"eng": {"alice": "admin"}}.',
    )
    jwt_teams_claim: str = Field(
        default="teams",
        description='JWT claim with the user\'s teams: {"eng": "operator"} or ["eng:operator"].',
    )

    @field_validator("teams")
    @classmethod
    def _valid_names(cls, teams: dict[str, dict[str, Role]]) -> dict[str, dict[str, Role]]:
        if bad := [name for name in teams if not valid_team_name(name)]:
            raise ValueError(
                f"THREADGATE_TEAMS: team names are {TEAM_NAME_PATTERN} (lowercase): {bad!r}"
            )
        return teams


@cache
def team_settings() -> TeamSettings:
    return TeamSettings()


def roles_from_claim(value: Any) -> dict[str, Role]:
    """A token's teams claim, `{"eng": "operator"}` or `["eng:operator"]`; entries that
    name no valid team or role are ignored (a token cannot widen anything by them)."""
    pairs: list[tuple[Any, Any]] = []
    if isinstance(value, Mapping):
        pairs = list(value.items())
    elif isinstance(value, list):
        entries = [item for item in value if isinstance(item, str) and ":" in item]
        pairs = [(item.partition(":")[0], item.partition(":")[2]) for item in entries]
    roles: dict[str, Role] = {}
    for team, role in pairs:
        if isinstance(team, str) and valid_team_name(team) and role in Role.__members__.values():
            roles[team] = Role(role)
    return roles


def role_in(team: str, user: str, claims: Mapping[str, Any] | None, settings: TeamSettings) -> Role:
    """The user's role in `team`: from the token's claim if it names the team, else from
    `THREADGATE_TEAMS`. Raises `NotAMember`."""
    if claims is not None:
        from_token = roles_from_claim(claims.get(settings.jwt_teams_claim))
        if team in from_token:
            return from_token[team]
    role = settings.teams.get(team, {}).get(user)
    if role is None:
        raise NotAMember(f"you are not a member of team '{team}'")
    return role
