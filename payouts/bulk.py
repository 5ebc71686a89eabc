"""Many rows as one statement parameter: a JSON array of row arrays.

Django's psycopg cursor binds parameters on the client, quoting every element of an array
parameter in Python; for a batch of a thousand rows of twenty columns that costs more than
the statement itself. One JSON document per statement is encoded by the standard library's
C encoder and expanded by PostgreSQL (`jsonb_array_elements`), which is several times
cheaper on the hot paths (ingest, processing, ledger postings).
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Iterable, Sequence
from typing import Any


def _default(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            raise TypeError(f"refusing a naive datetime in a bulk row: {value!r}")
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    raise TypeError(f"{type(value).__name__} cannot go into a bulk row: {value!r}")


def json_rows(rows: Iterable[Sequence[Any]]) -> str:
    """The rows as one JSON parameter for `rows_source`."""
    return json.dumps([list(row) for row in rows], default=_default, separators=(",", ":"))


def rows_source(columns: Sequence[tuple[str, str]], alias: str = "v") -> str:
    """SQL for a row source `<alias>(<column names>)` over one `json_rows` parameter.

    `columns` are (name, SQL type) in row order; a "jsonb" column is taken as JSON.
    Names and types come from the code, never from input.
    """
    select = ", ".join(
        f"(r.j -> {i}) AS {name}" if sql_type == "jsonb" else f"(r.j ->> {i})::{sql_type} AS {name}"
        for i, (name, sql_type) in enumerate(columns)
    )
    return f"(SELECT {select} FROM jsonb_array_elements(%s::jsonb) AS r(j)) AS {alias}"  # noqa: S608
