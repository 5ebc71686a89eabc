"""Brand API keys: format, hashed storage, lookup, revocation, last use and the command."""

from __future__ import annotations

import hashlib
import io
import re
from datetime import timedelta

import pytest
from django.core.management import call_command

from campaigns.api_keys import (
    brand_api_key_authenticate,
    brand_api_key_create,
    brand_api_key_revoke,
)
from campaigns.models import BrandApiKey
from connect import secret_keys
from connect.models import AuditEntry
from tests.campaigns.factories import BrandFactory, BrandMembershipFactory

pytestmark = pytest.mark.django_db

KEY_PATTERN = re.compile(r"^ck_live_([a-z0-9]{8})_([A-Za-z0-9]{43})$")


def test_a_new_key_has_the_recognisable_format_and_only_its_hash_is_stored() -> None:
    # given
    member = BrandMembershipFactory()

    # when
    api_key, full_key = brand_api_key_create(
        brand=member.brand, actor=member.user, name="Shop backend"
    )

    # then
    match = KEY_PATTERN.fullmatch(full_key)
    assert match is not None
    prefix, secret = match.groups()
    stored = BrandApiKey.objects.get(pk=api_key.pk)
    assert stored.prefix == prefix
    assert stored.secret_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in str(BrandApiKey.objects.filter(pk=api_key.pk).values().get())
    assert stored.name == "Shop backend"
    assert stored.created_by == member.user
    entry = AuditEntry.objects.get(action="campaigns.api_key.created")
    assert entry.actor == member.user
    assert entry.target_id == str(api_key.pk)
    assert secret not in str(entry.after)


def test_two_keys_never_share_a_prefix_or_a_secret() -> None:
    # given
    brand = BrandFactory()

    # when
    keys = {brand_api_key_create(brand=brand, actor=None, name=f"k{i}")[1] for i in range(20)}

    # then
    assert len(keys) == 20
    assert len({KEY_PATTERN.fullmatch(k).group(1) for k in keys}) == 20  # type: ignore[union-attr]


def test_a_key_is_found_by_its_prefix_with_its_brand() -> None:
    # given
    brand = BrandFactory()
    api_key, full_key = brand_api_key_create(brand=brand, actor=None, name="ERP")

    # when
    found = brand_api_key_authenticate(full_key)

    # then
    assert found is not None
    assert found.pk == api_key.pk
    assert found.brand == brand


def test_the_secret_is_compared_in_constant_time(monkeypatch: pytest.MonkeyPatch) -> None:
    # given
    _, full_key = brand_api_key_create(brand=BrandFactory(), actor=None, name="ERP")
    calls: list[tuple[str, str]] = []
    real = secret_keys.hmac.compare_digest

    def spy(a: str, b: str) -> bool:
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(secret_keys.hmac, "compare_digest", spy)

    # when
    found = brand_api_key_authenticate(full_key)

    # then
    assert found is not None
    assert len(calls) == 1


@pytest.mark.parametrize(
    "mangle",
    [
        lambda key: key[:-1] + ("A" if key[-1] != "A" else "B"),  # wrong secret
        lambda key: "ck_live_zzzzzzzz_" + key.rsplit("_", 1)[1],  # unknown prefix
        lambda key: key.replace("ck_live_", "ck_test_"),  # not our format
        lambda key: key + "x",  # too long
        lambda key: "",
    ],
    ids=["wrong-secret", "unknown-prefix", "other-format", "too-long", "empty"],
)
def test_a_wrong_key_is_not_found(mangle: object) -> None:
    # given
    _, full_key = brand_api_key_create(brand=BrandFactory(), actor=None, name="ERP")

    # when
    found = brand_api_key_authenticate(mangle(full_key))  # type: ignore[operator]

    # then
    assert found is None


def test_a_revoked_key_fails_and_revoking_twice_changes_nothing() -> None:
    # given
    member = BrandMembershipFactory()
    api_key, full_key = brand_api_key_create(brand=member.brand, actor=member.user, name="ERP")

    # when
    brand_api_key_revoke(api_key=api_key, actor=member.user)
    again = brand_api_key_revoke(api_key=api_key, actor=member.user)

    # then
    assert brand_api_key_authenticate(full_key) is None
    assert again.revoked_at is not None
    assert again.revoked_by == member.user
    assert AuditEntry.objects.filter(action="campaigns.api_key.revoked").count() == 1


def test_last_used_is_written_at_most_once_a_minute(
    django_assert_num_queries: object,
) -> None:
    # given
    _, full_key = brand_api_key_create(brand=BrandFactory(), actor=None, name="ERP")
    first = brand_api_key_authenticate(full_key)
    assert first is not None
    first_used = BrandApiKey.objects.get(pk=first.pk).last_used_at
    assert first_used is not None

    # when: used again within the minute, the lookup is the only query
    with django_assert_num_queries(1):  # type: ignore[operator]
        brand_api_key_authenticate(full_key)

    # then
    assert BrandApiKey.objects.get(pk=first.pk).last_used_at == first_used

    # when: a minute later it is written again
    BrandApiKey.objects.filter(pk=first.pk).update(last_used_at=first_used - timedelta(seconds=61))
    brand_api_key_authenticate(full_key)

    # then
    assert BrandApiKey.objects.get(pk=first.pk).last_used_at > first_used - timedelta(seconds=1)


def test_a_name_is_required() -> None:
    # given
    brand = BrandFactory()

    # when / then
    with pytest.raises(Exception, match="Give the key a name"):
        brand_api_key_create(brand=brand, actor=None, name="   ")


def test_someone_outside_the_brand_cannot_create_or_revoke_a_key() -> None:
    # given
    outsider = BrandMembershipFactory()
    brand = BrandFactory()
    api_key, _ = brand_api_key_create(brand=brand, actor=None, name="ERP")

    # when / then
    with pytest.raises(Exception, match="not a member"):
        brand_api_key_create(brand=brand, actor=outsider.user, name="Mine")
    with pytest.raises(Exception, match="not a member"):
        brand_api_key_revoke(api_key=api_key, actor=outsider.user)
    assert BrandApiKey.objects.get(pk=api_key.pk).revoked_at is None


def test_the_command_prints_a_working_key_on_its_last_line() -> None:
    # given
    brand = BrandFactory(slug="acme")
    out = io.StringIO()

    # when
    call_command("brand_api_key", "acme", "--name", "Benchmark", stdout=out)

    # then
    last_line = out.getvalue().rstrip("\n").splitlines()[-1]
    assert KEY_PATTERN.fullmatch(last_line)
    found = brand_api_key_authenticate(last_line)
    assert found is not None
    assert found.brand == brand
    assert found.name == "Benchmark"
    assert AuditEntry.objects.get(action="campaigns.api_key.created").actor is None


def test_the_command_refuses_an_unknown_brand() -> None:
    # when / then
    with pytest.raises(Exception, match="No brand has the slug 'nope'"):
        call_command("brand_api_key", "nope", stdout=io.StringIO())
