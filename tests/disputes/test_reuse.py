"""The platform-wide reuse check as indexed SQL: exactly the claim photos within the pHash
distance (checked against brute force), scoped as the finding promises, and the band
columns filled by the migration for rows analysed before it."""

from __future__ import annotations

import random

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.test.utils import CaptureQueriesContext

from disputes.models import ClaimImage
from disputes.reuse import REUSE_MAX_DISTANCE, reuse_facts, reused_dispute_ids
from forensics.fingerprints import ALGORITHM_VERSIONS
from forensics.phash_bands import hamming_distance, phash_bands
from tests.disputes.factories import ClaimImageFactory, DisputeFactory
from tests.factories import MerchantFactory


def flipped(value: bytes, bits: list[int]) -> bytes:
    number = int.from_bytes(value, "big")
    for bit in bits:
        number ^= 1 << bit
    return number.to_bytes(8, "big")


def analysed(dispute, phash: bytes | None, **fields) -> ClaimImage:
    image = ClaimImageFactory.build(dispute=dispute, merchant=dispute.merchant, **fields)
    image.set_phash(phash)
    image.save()
    return image


@pytest.mark.django_db
def test_lookup_agrees_with_brute_force_on_random_and_planted_hashes():
    rng = random.Random(4)
    merchants = [MerchantFactory() for _ in range(3)]
    queries = [rng.getrandbits(64).to_bytes(8, "big") for _ in range(12)]
    hashes = [rng.getrandbits(64).to_bytes(8, "big") for _ in range(300)]
    for query in queries:  # near copies at every distance from 0 to 10 bits
        hashes += [flipped(query, rng.sample(range(64), d)) for d in range(11) for _ in (0, 1)]
    rows = []
    for value in hashes:
        dispute = DisputeFactory(merchant=rng.choice(merchants))
        rows.append((dispute.pk, value, analysed(dispute, value)))
    probe_dispute = DisputeFactory(merchant=merchants[0])
    for query in queries:
        me = ClaimImageFactory.build(dispute=probe_dispute, merchant=probe_dispute.merchant)
        expected = {
            dispute_id
            for dispute_id, value, _ in rows
            if hamming_distance(value, query) <= REUSE_MAX_DISTANCE
        }
        assert len(expected) >= 14  # the planted copies at 0 … 6 bits, at least
        assert reused_dispute_ids(claim_image=me, phash=query) == expected


@pytest.mark.django_db
def test_the_lookup_is_one_query_then_one_for_the_matches():
    dispute = DisputeFactory()
    value = bytes.fromhex("f0e1d2c3b4a59687")
    analysed(DisputeFactory(merchant=dispute.merchant), flipped(value, [1, 20, 40]))
    me = ClaimImageFactory.build(dispute=dispute, merchant=dispute.merchant)
    with CaptureQueriesContext(connection) as queries:
        facts = reuse_facts(claim_image=me, phash=value)
    assert facts.total == 1
    assert len(queries) == 2
    lookup = queries[0]["sql"]
    assert all(f"phash_band{i}" in lookup for i in range(4)) and "IN (" in lookup


@pytest.mark.django_db
def test_scope_other_merchants_counted_own_dispute_and_unanalysed_photos_ignored():
    shop, other_shop = MerchantFactory(), MerchantFactory()
    value = bytes.fromhex("0123456789abcdef")
    # 6 bits, two in each of the three bands probed one bit wide: found only through
    # the fourth band, probed exactly.
    near = flipped(value, [50, 60, 34, 40, 18, 25])
    far = flipped(value, [0, 1, 2, 3, 4, 5, 6])  # 7 bits
    mine = DisputeFactory(merchant=shop, external_id="MINE")
    earlier = DisputeFactory(merchant=shop, external_id="EARLIER")
    analysed(earlier, near)
    analysed(DisputeFactory(merchant=shop, external_id="FAR"), far)
    analysed(DisputeFactory(merchant=shop, external_id="PENDING"), None)
    analysed(DisputeFactory(merchant=other_shop, external_id="THEIRS"), value)
    analysed(DisputeFactory(merchant=other_shop, external_id="THEIRS-2"), near)
    # The same bytes count whatever the pHash (a hash from an older algorithm version).
    same_bytes = analysed(
        DisputeFactory(merchant=other_shop), bytes(8), sha256="ab" * 32
    ).dispute_id
    analysed(mine, value, sha256="cd" * 32)  # another photo of this same dispute
    me = ClaimImageFactory.build(dispute=mine, merchant=shop, sha256="ab" * 32)

    facts = reuse_facts(claim_image=me, phash=value)

    assert [external_id for _, external_id, _ in facts.same_merchant] == ["EARLIER"]
    assert facts.other_merchants == 3
    assert same_bytes in reused_dispute_ids(claim_image=me, phash=value)


@pytest.mark.django_db
def test_bands_are_always_written_beside_the_phash():
    image = ClaimImageFactory()
    image.set_phash(bytes.fromhex("0123456789abcdef"))
    image.save()
    image.refresh_from_db()
    assert (image.phash_band0, image.phash_band1, image.phash_band2, image.phash_band3) == (
        0x0123,
        0x4567,
        0x89AB,
        0xCDEF,
    )
    image.phash = bytes(8)  # not through set_phash: bands still of the old hash …
    image.phash_band0 = None
    with pytest.raises(IntegrityError), transaction.atomic():
        image.save()  # … and a missing band is refused by the database


BEFORE = [("disputes", "0008_finding_code_credentials_invalid"), ("evidence", "0004_tenancy_moved")]


@pytest.mark.django_db(transaction=True)
def test_migration_fills_the_bands_of_photos_analysed_before_it(product):
    from disputes.evidence_index import _signature
    from evidence.models import Fingerprint, ReferencePhoto

    rng = random.Random(9)
    values = [rng.getrandbits(64).to_bytes(8, "big") for _ in range(5)]
    dispute = DisputeFactory(merchant=product.merchant)
    images = [analysed(dispute, v, sha256=f"{i:064x}") for i, v in enumerate(values)]
    pending = analysed(dispute, None, sha256="f" * 64)
    photo = ReferencePhoto.objects.create(
        merchant=product.merchant,
        product=product,
        file="originals/x.jpg",
        original_name="x.jpg",
        sha256="e" * 64,
        size_bytes=1,
        content_type="image/jpeg",
        width=1,
        height=1,
    )
    Fingerprint.objects.create(
        merchant=product.merchant,
        reference_photo=photo,
        algorithm="phash",
        version=ALGORITHM_VERSIONS["phash"],
        value=values[0],
        bits=64,
    )
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    try:
        with connection.cursor() as cursor:
            columns = {
                c.name
                for c in connection.introspection.get_table_description(
                    cursor, "disputes_claimimage"
                )
            }
        assert "phash_band0" not in columns
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())
    for image, value in zip(images, values, strict=True):
        image.refresh_from_db()
        bands = (image.phash_band0, image.phash_band1, image.phash_band2, image.phash_band3)
        assert bands == phash_bands(value)
    pending.refresh_from_db()
    assert pending.phash_band0 is None
    assert Fingerprint.objects.get().merchant_id == product.merchant_id
    me = ClaimImageFactory.build(dispute=DisputeFactory(merchant=product.merchant))
    assert reused_dispute_ids(claim_image=me, phash=values[2]) == {dispute.pk}
    assert _signature(product.merchant_id)[0] == 1
