"""Pagination for long lists: counting a hundred thousand rows on every page view is waste."""

from __future__ import annotations

from functools import cached_property
from typing import Any

from django.core.paginator import Paginator


class CappedPaginator(Paginator):
    """Counts matches only up to a cap; past it the page says "more than N".

    The cap grows with the requested page so that a deep page still exists and links on.
    """

    def __init__(
        self, object_list: Any, per_page: int, *, requested_page: int = 1, cap: int = 1000
    ) -> None:
        super().__init__(object_list, per_page)
        self.cap = max(cap, (requested_page + 1) * per_page)

    @cached_property
    def _capped_count(self) -> int:
        return int(self.object_list.order_by()[: self.cap + 1].count())  # type: ignore[attr-defined]

    @cached_property
    def count(self) -> int:
        return min(self._capped_count, self.cap)

    @property
    def capped(self) -> bool:
        return self._capped_count > self.cap
