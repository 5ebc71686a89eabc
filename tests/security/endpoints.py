"""Every URL of the site and every operation of the OpenAPI schema, enumerated from the
URL conf and the schema themselves so that a new one is covered without being listed."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from django.urls import URLPattern, URLResolver, get_resolver, resolve
from drf_spectacular.generators import SchemaGenerator

HTTP_METHODS = ("get", "post", "put", "patch", "delete")


@dataclass(frozen=True)
class Endpoint:
    """One URL pattern: its qualified name, its route and the parameters it takes."""

    name: str
    route: str
    params: tuple[str, ...]
    callback: Callable[..., Any]

    @property
    def is_api(self) -> bool:
        return self.route.startswith("api/")

    def methods(self) -> tuple[str, ...]:
        """The methods the view answers: a class-based view says; a function view may take
        any, so it gets a read and a write."""
        view_class = getattr(self.callback, "cls", None) or getattr(
            self.callback, "view_class", None
        )
        if view_class is None:
            return ("get", "post")
        return tuple(m for m in HTTP_METHODS if hasattr(view_class, m))


def _walk(
    patterns: list[Any], prefix: str, namespace: str, params: tuple[str, ...]
) -> Iterator[Endpoint]:
    for entry in patterns:
        route = str(entry.pattern)
        found = tuple(re.findall(r"<(?:\w+:)?(\w+)>|\(\?P<(\w+)>", route))
        names = tuple(a or b for a, b in found) if found and isinstance(found[0], tuple) else ()
        if isinstance(entry, URLResolver):
            inner = (
                f"{namespace}:{entry.namespace}"
                if entry.namespace and namespace
                else (entry.namespace or namespace)
            )
            yield from _walk(entry.url_patterns, prefix + route, inner, params + names)
        elif isinstance(entry, URLPattern):
            name = entry.name or ""
            qualified = f"{namespace}:{name}" if namespace and name else name
            yield Endpoint(
                name=qualified or f"<unnamed {prefix + route}>",
                route=prefix + route,
                params=params + names,
                callback=entry.callback,
            )


def url_endpoints() -> list[Endpoint]:
    """Every pattern of the root URL conf, included ones and their namespaces too."""
    return list(_walk(get_resolver().url_patterns, "", "", ()))


def schema_operations() -> list[tuple[str, str, str]]:
    """(path, method, qualified URL name) of every operation in the OpenAPI schema."""
    schema = SchemaGenerator().get_schema(request=None, public=True)
    operations = []
    for path, item in schema["paths"].items():
        filled = re.sub(r"\{[^}]+\}", "1", path)
        match = resolve(filled)
        for method in item:
            if method in HTTP_METHODS:
                operations.append((path, method, match.view_name))
    return operations
