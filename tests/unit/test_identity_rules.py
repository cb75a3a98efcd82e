"""The identity providers file and the rules that turn a provider's claims into a role."""

from __future__ import annotations

import pytest

from services.gateway.adapters.identity_config import parse_identity_config
from services.gateway.domain.identity import (
    GrantedRole,
    IdentityConfigInvalid,
    claim,
    staff_role,
    subject_hash,
)
from services.gateway.domain.staff import StaffRole

REGION = """
no_password_sign_in = ["soest", "region"]

[[provider]]
id = "region"
audience = "staff"
name = "Kreis"
issuer = "https://sso.example/realms/region/"
client_id = "soesmart"
client_secret_env = "TEST_IDP_SECRET"
scopes = ["openid", "email", "groups"]
[[provider.role]]
claim = "groups"
value = "/soesmart/koordination"
role = "coordinator"
[[provider.role]]
claim = "groups"
value = "/soesmart/olpe"
role = "town_admin"
town = "olpe"

[[provider]]
id = "servicekonto"
audience = "citizens"
name = "ServiceKonto"
issuer = "https://servicekonto.example"
client_id = "soesmart"
client_secret_env = "TEST_IDP_SECRET"
towns = ["soest", "olpe"]
postcode_claim = "postcode"
"""


def town_provider(rule_town: str, role: str = "town_admin") -> str:
    town_line = f'town = "{rule_town}"\n' if role == "town_admin" else ""
    return f"""
[[provider]]
id = "soest"
audience = "staff"
name = "Soest"
issuer = "https://adfs.soest.example/adfs"
client_id = "soesmart"
client_secret_env = "TEST_IDP_SECRET"
town = "soest"
[[provider.role]]
claim = "roles"
value = "admin"
role = "{role}"
{town_line}"""


@pytest.fixture(autouse=True)
def secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEST_IDP_SECRET", "from-the-environment")


def test_the_file_names_providers_roles_and_where_passwords_are_off() -> None:
    config = parse_identity_config(REGION)
    region = config.provider("region")
    assert region is not None and region.issuer == "https://sso.example/realms/region"
    assert region.client_secret == "from-the-environment"
    assert [p.id for p in config.citizen_providers("olpe")] == ["servicekonto"]
    assert config.citizen_providers("menden") == []
    assert not config.password_allowed("soest") and not config.password_allowed(None)
    assert config.password_allowed("olpe")
    assert config.staff_origins() == ("https://sso.example",)


def test_a_coordinators_group_wins_over_a_town_group() -> None:
    region = parse_identity_config(REGION).provider("region")
    assert region is not None
    both = {"groups": ["/soesmart/olpe", "/soesmart/koordination"]}
    assert staff_role(region, both) == GrantedRole(StaffRole.COORDINATOR, None)
    assert staff_role(region, {"groups": ["/soesmart/olpe"]}) == GrantedRole(StaffRole.TOWN_ADMIN, "olpe")
    assert staff_role(region, {"groups": ["/kantine"]}) is None
    assert staff_role(region, {}) is None


def test_a_towns_directory_may_only_make_admins_of_that_town() -> None:
    assert parse_identity_config(town_provider("soest")).provider("soest") is not None
    with pytest.raises(IdentityConfigInvalid, match="only make admins of soest"):
        parse_identity_config(town_provider("olpe"))
    with pytest.raises(IdentityConfigInvalid, match="only make admins of soest"):
        parse_identity_config(town_provider("", role="coordinator"))


def test_a_file_that_cannot_work_is_refused_at_start(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(IdentityConfigInvalid, match="unknown keys"):
        with_secret = 'client_id = "soesmart"\nclient_secret = "x"\nclient_secret_env'
        parse_identity_config(REGION.replace('client_id = "soesmart"\nclient_secret_env', with_secret, 1))
    with pytest.raises(IdentityConfigInvalid, match="unknown towns"):
        parse_identity_config(REGION.replace('towns = ["soest", "olpe"]', 'towns = ["atlantis"]'))
    monkeypatch.setenv("TEST_IDP_SECRET", "")
    with pytest.raises(IdentityConfigInvalid, match="secret is empty"):
        parse_identity_config(REGION)


def test_claims_are_read_by_dotted_path() -> None:
    claims = {"address": {"postal_code": "59494"}, "groups": ["a"]}
    assert claim(claims, "address.postal_code") == "59494"
    assert claim(claims, "address.locality") is None
    assert claim(claims, "groups.x") is None


def test_the_subject_hash_is_keyed_and_depends_on_the_issuer() -> None:
    one = subject_hash("key-1", "https://a.example", "person")
    assert one == subject_hash("key-1", "https://a.example", "person")
    assert one != subject_hash("key-2", "https://a.example", "person")
    assert one != subject_hash("key-1", "https://b.example", "person")
    assert "person" not in one and len(one) == 64
