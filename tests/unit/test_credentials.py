"""The credential checks both sides share, against a loopback JWKS provider."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from agents.credentials import (
    CredentialSettings,
    CredentialVerifier,
    InvalidCredentials,
    RemoteJwks,
)
from tests.identity_provider import AUDIENCE, ISSUER, IdentityProvider


@pytest.fixture
def provider() -> Iterator[IdentityProvider]:
    idp = IdentityProvider().start()
    idp.publish("k1")
    try:
        yield idp
    finally:
        idp.stop()


def verifier(provider: IdentityProvider) -> CredentialVerifier:
    return CredentialVerifier(
        CredentialSettings(
            jwt_jwks_url=provider.jwks_url,
            jwt_issuer=ISSUER,
            jwt_audience=AUDIENCE,
            api_keys={"alice": "alice-key-0123456789"},
        )
    )


async def test_a_provider_that_fails_is_asked_at_most_once_a_second(provider: IdentityProvider):
    provider.publish("k1", "ghost")
    provider.publish("k1")  # "ghost" has a key, but the provider no longer publishes it
    check = verifier(provider)
    assert await check.verify(None, provider.sign("k1", "alice")) == "alice"
    provider.broken = True
    await asyncio.sleep(RemoteJwks.MIN_REFRESH_SECONDS + 0.1)  # a refetch is allowed again
    before = provider.fetches
    for _ in range(30):  # tokens naming a kid the cache lacks: each would refetch
        with pytest.raises(InvalidCredentials, match="unknown key"):
            await check.verify(None, provider.sign("ghost", "alice"))
    assert provider.fetches - before <= 1, "an outage must not multiply fetches"
    # The keys fetched before the outage still work meanwhile.
    assert await check.verify(None, provider.sign("k1", "alice")) == "alice"


async def test_a_provider_answering_nonsense_is_a_refusal_not_a_crash(provider: IdentityProvider):
    check = verifier(provider)
    provider.broken = True
    with pytest.raises(InvalidCredentials, match="unknown key"):
        await check.verify(None, provider.sign("k1", "alice"))


@pytest.mark.parametrize("subject", ["jos\u00e9", " alice", "al\nice", "", "x" * 201])
async def test_user_ids_must_be_printable_ascii(provider: IdentityProvider, subject: str):
    with pytest.raises(InvalidCredentials):
        await verifier(provider).verify(None, provider.sign("k1", subject))


@pytest.mark.parametrize("user", ["jos\u00e9", "tab\tuser", " padded"])
def test_api_key_users_must_be_printable_ascii(user: str):
    with pytest.raises(ValueError, match="printable ASCII"):
        CredentialSettings(api_keys={user: "k" * 20})


async def test_a_bearer_token_wins_over_an_x_api_key_the_sdk_added(provider: IdentityProvider):
    token = provider.sign("k1", "bob")
    assert await verifier(provider).verify("lsv2-some-langsmith-key", token) == "bob"


async def test_concurrent_checks_share_one_fetch(provider: IdentityProvider):
    check = verifier(provider)
    tokens = [provider.sign("k1", f"user{i}") for i in range(20)]
    users = await asyncio.gather(*(check.verify(None, t) for t in tokens))
    assert users == [f"user{i}" for i in range(20)] and provider.fetches == 1
