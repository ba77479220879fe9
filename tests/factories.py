"""factory-boy factories for the tenancy (core) and evidence models."""

from __future__ import annotations

import factory
from django.contrib.auth import get_user_model

from core.models import Membership, Merchant, Reviewer
from evidence.models import Product

PASSWORD = "correct-horse-battery-staple"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class MerchantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Merchant

    slug = factory.Sequence(lambda n: f"shop-{n}")
    name = factory.Sequence(lambda n: f"Shop {n}")


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    merchant = factory.SubFactory(MerchantFactory)
    role = Membership.Role.OWNER


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product

    merchant = factory.SubFactory(MerchantFactory)
    sku = factory.Sequence(lambda n: f"SKU-{n:04d}")
    title = factory.Faker("sentence", nb_words=3)


class ReviewerFactory(factory.django.DjangoModelFactory):
    """Support staff; pass ``merchants=[...]`` to scope them, else they review everyone."""

    class Meta:
        model = Reviewer
        skip_postgeneration_save = True

    user = factory.SubFactory(UserFactory)
    all_merchants = True

    @factory.post_generation
    def merchants(obj, create, extracted, **kwargs):
        if create and extracted:
            obj.all_merchants = False
            obj.save(update_fields=["all_merchants"])
            obj.merchants.set(extracted)
