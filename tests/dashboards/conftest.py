"""The dashboards' tests share one marketplace, built through the real pipeline."""

from __future__ import annotations

from typing import Any

import pytest

from tests.dashboards.scenario import Marketplace, build_marketplace


@pytest.fixture
def market(settings: Any) -> Marketplace:
    return build_marketplace(settings)
