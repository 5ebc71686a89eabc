"""`manage.py brand_api_key <brand-slug> [--name NAME]`: make an API key for a brand.

For operators and scripts (the benchmark, a brand's first integration): the key is
printed once, alone on the last line of stdout, so `| tail -n 1` captures it. Only its hash is
stored; the creation is audited with no actor.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from campaigns.api_keys import brand_api_key_create
from campaigns.models import Brand


class Command(BaseCommand):
    help = "Create an API key for a brand and print it on the last line (shown only once)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("brand_slug", help="The brand's slug, as in /brands/<slug>/.")
        parser.add_argument("--name", default="Command line", help="A name to recognise the key.")

    def handle(self, *args: Any, **options: Any) -> None:
        brand = Brand.objects.filter(slug=options["brand_slug"]).first()
        if brand is None:
            raise CommandError(f"No brand has the slug {options['brand_slug']!r}.")
        try:
            api_key, full_key = brand_api_key_create(brand=brand, actor=None, name=options["name"])
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        self.stdout.write(
            f"Created API key {api_key.name!r} (prefix {api_key.prefix}) for {brand.name}. "
            "Store it now: it is not shown again."
        )
        self.stdout.write(full_key)
