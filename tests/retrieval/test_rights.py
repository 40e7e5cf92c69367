"""The rights gate: what generation may use, where and when, and why not."""

from datetime import date

import pytest

from retrieval.selectors import rights_block_reason, rights_cleared_assets, search_assets
from tests.factories.retrieval import IPFactory, RightsFactory, embedded_asset

pytestmark = pytest.mark.django_db

ON = date(2026, 6, 1)

# (case, rights fields, territory asked, expected reason or None when cleared)
MATRIX = [
    ("worldwide", {}, "FR", None),
    ("worldwide asked without territory", {}, None, None),
    (
        "expired",
        {"valid_until": date(2026, 1, 31)},
        "GB",
        "licence expired 2026-01-31",
    ),
    ("not yet started", {"valid_from": date(2026, 9, 1)}, "GB", "licence starts 2026-09-01"),
    (
        "wrong territory",
        {"worldwide": False, "territories": ["GB", "IE"]},
        "FR",
        "not licensed in FR (licensed in GB, IE)",
    ),
    ("right territory", {"worldwide": False, "territories": ["GB", "IE"]}, "gb", None),
    (
        "territory-limited asked worldwide",
        {"worldwide": False, "territories": ["GB"]},
        None,
        "not cleared worldwide (licensed in GB)",
    ),
    (
        "reference use forbidden",
        {"reference_use_allowed": False},
        "GB",
        "reference use for generation not permitted",
    ),
    ("last valid day", {"valid_until": ON}, "GB", None),
]


@pytest.mark.parametrize(
    ("rights", "territory", "reason"),
    [case[1:] for case in MATRIX],
    ids=[case[0] for case in MATRIX],
)
def test_rights_matrix_gates_search_listing_and_reason_alike(rights, territory, reason):
    # given one lantern still with these rights
    ip = IPFactory()
    asset = embedded_asset(ip=ip, title="Lantern harbour at dusk", rights=None)
    RightsFactory(asset=asset, **rights)
    asset.refresh_from_db()

    # when the pipeline asks for references
    hits = search_assets(ip=ip, query="lantern harbour", territory=territory, on_date=ON)
    cleared = rights_cleared_assets(ip=ip, territory=territory, on_date=ON) if territory else None

    # then search, the cleared list and the stated reason agree
    assert rights_block_reason(asset, territory=territory, on_date=ON) == reason
    assert [hit.asset for hit in hits] == ([asset] if reason is None else [])
    if cleared is not None:
        assert list(cleared) == ([asset] if reason is None else [])


def test_asset_without_rights_is_never_returned():
    ip = IPFactory()
    asset = embedded_asset(ip=ip, title="Lantern harbour", rights=None)

    assert search_assets(ip=ip, query="lantern", territory="GB", on_date=ON) == []
    assert rights_block_reason(asset, territory="GB", on_date=ON) == "no rights recorded"


def test_browsing_without_use_shows_reference_forbidden_assets():
    ip = IPFactory()
    asset = embedded_asset(ip=ip, title="Lantern logo", rights__reference_use_allowed=False)

    assert search_assets(ip=ip, query="lantern", territory="GB", on_date=ON) == []
    browsing = search_assets(ip=ip, query="lantern", territory="GB", on_date=ON, use=None)
    assert [hit.asset for hit in browsing] == [asset]
