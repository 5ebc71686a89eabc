"""Factories for accounts and creator profiles."""

from __future__ import annotations

import factory
from allauth.account.models import EmailAddress

from connect.models import CreatorProfile, SocialAccount, User

PASSWORD = "a-Strong-passw0rd!"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def verified(self, create: bool, extracted: bool | None, **kwargs: object) -> None:
        """`UserFactory(verified=True)` also records a verified primary email address."""
        if create and extracted:
            EmailAddress.objects.create(user=self, email=self.email, verified=True, primary=True)
        if create:
            self.save()


class CreatorProfileFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CreatorProfile

    user = factory.SubFactory(UserFactory, verified=True)
    handle = factory.Sequence(lambda n: f"creator_{n}")
    display_name = factory.Sequence(lambda n: f"Creator {n}")
    country = "PL"
    languages = factory.LazyFunction(lambda: ["pl", "en"])


class SocialAccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SocialAccount

    profile = factory.SubFactory(CreatorProfileFactory)
    platform = "instagram"
    handle = factory.Sequence(lambda n: f"insta_{n}")
    url = factory.LazyAttribute(lambda o: f"https://www.instagram.com/{o.handle}/")
    follower_count = 1000
