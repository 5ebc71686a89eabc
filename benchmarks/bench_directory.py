"""Benchmark the staff creator directory (GET /creators/) on 100,000 seeded creators.

    make bench-directory                  # or: .venv/bin/python benchmarks/bench_directory.py
    .venv/bin/python benchmarks/bench_directory.py --reseed --repeat 50

Seeds the bench database (see common.py) with creators once, by COPY, then requests the
real view through Django's test client, logged in as staff, for a set of realistic
searches and filters. Prints p50/p95 per query, the SQL time and the paginator's COUNT(*)
inside it, the floor (GET /robots.txt through the same stack) and EXPLAIN (ANALYZE,
BUFFERS) summaries. The last line is machine-readable:

    RESULT creators=<n> search_p50_ms=<n> search_p95_ms=<n> worst_p95_ms=<n> trivial_p50_ms=<n>
"""

from __future__ import annotations

import argparse
import functools
import itertools
import json
import random
import re
import time
import unicodedata
import warnings
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
from common import (
    Timing,
    copy_rows,
    drop_secondary_indexes,
    load_average,
    percentile,
    prepare_bench_database,
    print_table,
    result_line,
    time_interleaved,
    vacuum_analyze,
)

DEFAULT_CREATORS = 100_000
STAFF_EMAIL = "bench-staff@connect.localhost"
SLOW_P50_MS = 50.0
SLOW_STATEMENT_MS = 10.0
TRIGRAM_INDEXES = ("creator_display_name_trgm", "creator_handle_trgm")
SEEDED_TABLES = (
    "connect_user",
    "connect_creatorprofile",
    "connect_creatorprofile_niches",
    "connect_socialaccount",
)

# --- what the seeded creators look like ----------------------------------------------------

# Names by language group: (female first names, male first names, last names). Last names
# are listed most common first; the generator picks them with Zipf-like weights, so the
# tail of each list is rare (Brzęczyszczykiewicz a handful of times in 100,000).
NAMES: dict[str, tuple[str, str, str]] = {
    "pl": (
        "Anna Katarzyna Maria Małgorzata Agnieszka Barbara Ewa Magdalena Joanna Aleksandra "
        "Zofia Julia Natalia Marta Karolina Monika Paulina Weronika Zuzanna Oliwia Wiktoria "
        "Dominika Kinga Izabela Łucja Hanna Alicja Agata",
        "Piotr Krzysztof Andrzej Tomasz Paweł Michał Marcin Jakub Adam Łukasz Mateusz Kamil "
        "Bartosz Grzegorz Wojciech Szymon Filip Dawid Maciej Sebastian Jan Zbigniew Jarosław "
        "Przemysław",
        "Nowak Kowalski Wiśniewski Wójcik Kowalczyk Kamiński Lewandowski Zieliński Szymański "
        "Woźniak Dąbrowski Kozłowski Jankowski Mazur Kwiatkowski Krawczyk Piotrowski Grabowski "
        "Nowakowski Pawłowski Michalski Nowicki Adamczyk Dudek Zając Wieczorek Jabłoński Król "
        "Majewski Olszewski Jaworski Wróbel Malinowski Pawlak Witkowski Walczak Stępień Górski "
        "Rutkowski Michalak Sikora Ostrowski Baran Duda Szewczyk Tomaszewski Pietrzak Marciniak "
        "Wróblewski Zalewski Jakubowski Jasiński Zawadzki Sadowski Bąk Chmielewski Włodarczyk "
        "Borkowski Czarnecki Sawicki Sokołowski Urbański Kubiak Maciejewski Szczepański "
        "Kucharski Wilk Kalinowski Lis Mazurek Wysocki Adamski Kaźmierczak Wasilewski Sobczak "
        "Czerwiński Andrzejewski Cieślak Głowacki Zakrzewski Kołodziej Sikorski Krajewski "
        "Gajewski Szymczak Szulc Baranowski Laskowski Brzeziński Makowski Ziółkowski "
        "Przybylski Grzybowski Brzęczyszczykiewicz",
    ),
    "es": (
        "María Lucía Sofía Martina Paula Julia Valeria Carmen Ana Laura Marta Elena Sara Alba "
        "Noelia Irene Claudia Andrea Daniela Carla Nerea Ainhoa Rocío Inés",
        "Hugo Mateo Martín Lucas Leo Daniel Alejandro Pablo Manuel Álvaro Adrián David Javier "
        "Diego Sergio Carlos José Jorge Iván Raúl Íñigo Gonzalo",
        "García Rodríguez González Fernández López Martínez Sánchez Pérez Gómez Martín Jiménez "
        "Ruiz Hernández Díaz Moreno Muñoz Álvarez Romero Alonso Gutiérrez Navarro Torres "
        "Domínguez Vázquez Ramos Gil Ramírez Serrano Blanco Molina Morales Suárez Ortega "
        "Delgado Castro Ortiz Rubio Marín Sanz Núñez Iglesias Medina Garrido Cortés Castillo "
        "Santos Lozano Guerrero Cano Prieto Méndez Cruz Calvo Gallego Vidal León Márquez "
        "Herrera Peña Flores Cabrera Campos Vega Fuentes Carrasco Caballero Reyes Nieto "
        "Aguilar Pascual Santana Herrero Montero Lorenzo Hidalgo Giménez Ibáñez Ferrer Durán "
        "Benítez Vargas Mora Vicente Arias Carmona Crespo Román Pastor Soto Sáez Velasco "
        "Goikoetxea Etxeberria",
    ),
    "de": (
        "Anna Lena Lea Hannah Emma Mia Laura Lisa Julia Sarah Katharina Johanna Sophie Marie "
        "Jana Franziska",
        "Lukas Jonas Leon Finn Paul Felix Maximilian Tim Jan Niklas Tobias Florian Moritz "
        "Julian Sebastian Jürgen",
        "Müller Schmidt Schneider Fischer Weber Meyer Wagner Becker Schulz Hoffmann Schäfer "
        "Koch Bauer Richter Klein Wolf Schröder Neumann Schwarz Zimmermann Braun Krüger "
        "Hofmann Hartmann Lange Schmitt Werner Krause Meier Lehmann Köhler Günther",
    ),
    "fr": (
        "Emma Louise Jade Alice Chloé Lina Léa Manon Camille Inès Sarah Juliette Zoé Clara "
        "Margaux Élodie",
        "Gabriel Léo Raphaël Louis Lucas Adam Hugo Arthur Jules Nathan Théo Tom Mathis Noah "
        "Antoine Benoît",
        "Martin Bernard Dubois Thomas Robert Richard Petit Durand Leroy Moreau Simon Laurent "
        "Lefebvre Michel Garcia David Bertrand Roux Vincent Fournier Morel Girard André "
        "Lefèvre Mercier Dupont Lambert Bonnet François Martinez",
    ),
    "it": (
        "Sofia Giulia Aurora Alice Ginevra Emma Giorgia Greta Beatrice Anna Chiara Francesca "
        "Martina Sara Federica",
        "Leonardo Francesco Alessandro Lorenzo Mattia Andrea Gabriele Riccardo Tommaso Matteo "
        "Luca Giuseppe Marco Davide Niccolò",
        "Rossi Russo Ferrari Esposito Bianchi Romano Colombo Ricci Marino Greco Bruno Gallo "
        "Conti De_Luca Mancini Costa Giordano Rizzo Lombardi Moretti Barbieri Fontana Santoro "
        "Mariani Rinaldi Caruso Ferrara Galli Martini Leone",
    ),
    "en": (
        "Olivia Amelia Isla Ava Emily Sophia Grace Mia Poppy Ella Chloe Jessica Hannah Megan "
        "Charlotte Emma",
        "Oliver George Harry Noah Jack Leo Arthur Muhammad Oscar Charlie Jacob Thomas James "
        "William Daniel Ethan",
        "Smith Jones Williams Taylor Brown Davies Evans Wilson Thomas Johnson Roberts Robinson "
        "Thompson Wright Walker White Edwards Hughes Green Hall Lewis Harris Clarke Patel "
        "Jackson Wood Turner Martin Cooper Hill Ward Morris Moore Clark Lee King Baker",
    ),
}

# (country, weight, name group). Creators mostly carry their country's names.
COUNTRIES = [
    ("PL", 28, "pl"),
    ("ES", 18, "es"),
    ("DE", 9, "de"),
    ("FR", 7, "fr"),
    ("IT", 7, "it"),
    ("GB", 5, "en"),
    ("US", 4, "en"),
    ("MX", 4, "es"),
    ("PT", 3, "es"),
    ("NL", 3, "en"),
    ("AR", 2, "es"),
    ("CO", 2, "es"),
    ("BE", 2, "fr"),
    ("AT", 2, "de"),
    ("CZ", 2, "pl"),
    ("IE", 1, "en"),
    ("SE", 1, "en"),
]
LANGUAGE_OF_GROUP = {"pl": "pl", "es": "es", "de": "de", "fr": "fr", "it": "it", "en": "en"}

NICHE_WEIGHTS = {
    "fashion": 14,
    "beauty": 12,
    "lifestyle": 12,
    "fitness": 9,
    "food": 9,
    "travel": 8,
    "gaming": 7,
    "tech": 6,
    "music": 6,
    "home": 5,
    "parenting": 5,
    "sports": 5,
    "pets": 4,
    "finance": 3,
    "education": 3,
}

PLATFORMS = [  # (platform, weight, profile URL template)
    ("instagram", 40, "https://www.instagram.com/{}/"),
    ("tiktok", 30, "https://www.tiktok.com/@{}"),
    ("youtube", 15, "https://www.youtube.com/@{}"),
    ("x", 8, "https://x.com/{}"),
    ("twitch", 5, "https://www.twitch.tv/{}"),
    ("other", 2, "https://linktr.ee/{}"),
]

BIOS = [
    "",
    "",
    "",
    "{niche} and everyday life. DM for collaborations.",
    "Sharing my {niche} journey one post at a time.",
    "{niche} creator based in {country}. Honest reviews only.",
    "Parent of two, {niche} lover, coffee addict.",
    "Daily {niche} tips, tutorials and the occasional fail.",
    "{niche} | travel | good food. Business enquiries by email.",
]

SPAN = timedelta(days=730)

# --- the queries ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Scenario:
    key: str
    label: str
    query: str


SCENARIOS = [
    Scenario("default", "no filter (sort followers)", ""),
    Scenario("search", "q=kow (common substring)", "q=kow"),
    Scenario("rare", "q=szczyk (rare substring)", "q=szczyk"),
    Scenario("handle", "q=@anna_kow (handle prefix)", "q=%40anna_kow"),
    Scenario("short", "q=an (2 chars, no trigram)", "q=an"),
    Scenario("niche", "niche=gaming", "niche=gaming"),
    Scenario("country", "country=ES", "country=ES"),
    Scenario("range", "followers 100k-1M", "followers_min=100000&followers_max=1000000"),
    Scenario(
        "combined",
        "q=kow+PL+fashion+>=10k",
        "q=kow&country=PL&niche=fashion&followers_min=10000",
    ),
    Scenario("newest", "sort=newest", "sort=newest"),
    Scenario("name", "sort=name", "sort=name"),
    Scenario("deep", "page=200 (offset 4776)", "page=200"),
]
SEARCH_KEY = "search"


# --- seeding -------------------------------------------------------------------------------


@functools.cache
def ascii_fold(text: str) -> str:
    """Handles are ASCII: drop accents, Ł→L, ß→ss, spaces and apostrophes."""
    text = text.replace("ł", "l").replace("Ł", "L").replace("ß", "ss")
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if c.isascii() and (c.isalnum() or c == "_"))


def zipf_weights(n: int, exponent: float) -> list[float]:
    """Cumulative Zipf-like weights for rng.choices(cum_weights=...)."""
    return cumulative([1 / (rank + 1) ** exponent for rank in range(n)])


def cumulative(weights: Iterable[float]) -> list[float]:
    """Cumulative weights: rng.choices draws the same as with the plain weights, without
    re-adding them up on every call."""
    return list(itertools.accumulate(weights))


@dataclass
class NamePool:
    female: list[str]
    male: list[str]
    last: list[str]
    female_w: list[float] = field(init=False)
    male_w: list[float] = field(init=False)
    last_w: list[float] = field(init=False)

    def __post_init__(self) -> None:
        self.female_w = zipf_weights(len(self.female), 0.6)
        self.male_w = zipf_weights(len(self.male), 0.6)
        # Steeper for last names so the end of the list is rare.
        self.last_w = zipf_weights(len(self.last), 1.2)

    def pick(self, rng: random.Random, female: bool) -> tuple[str, str]:
        if female:
            first = rng.choices(self.female, cum_weights=self.female_w)[0]
        else:
            first = rng.choices(self.male, cum_weights=self.male_w)[0]
        last = rng.choices(self.last, cum_weights=self.last_w)[0].replace("_", " ")
        if female and last.endswith(("ski", "cki", "dzki")):
            last = last[:-1] + "a"  # Kowalski -> Kowalska
        return first, last


def build_pools() -> dict[str, NamePool]:
    return {
        group: NamePool(female.split(), male.split(), last.split())
        for group, (female, male, last) in NAMES.items()
    }


def handle_for(rng: random.Random, first: str, last: str, niche_slug: str, taken: set[str]) -> str:
    f, lst = ascii_fold(first).lower(), ascii_fold(last.replace(" ", "")).lower()
    pattern = rng.choices(range(9), [30, 20, 8, 8, 15, 4, 10, 3, 2])[0]
    base = [
        f"{f}_{lst}",
        f"{f}{lst}",
        f"{lst}_{f}",
        f"{f}_{lst[:1]}",
        f"{f}{lst}{rng.randint(0, 99):02d}",
        f"the{f}{lst}",
        f"{f}_{niche_slug}",
        f"{f}_official",
        f"{f.capitalize()}{lst.capitalize()}",
    ][pattern][:30]
    handle = base
    while handle.lower() in taken or len(handle) < 3:
        suffix = str(rng.randint(1, 9999))
        handle = f"{base[: 29 - len(suffix)]}_{suffix}"
    taken.add(handle.lower())
    return handle


@dataclass
class SeedRows:
    users: list[tuple[Any, ...]] = field(default_factory=list)
    profiles: list[tuple[Any, ...]] = field(default_factory=list)
    niche_links: list[tuple[int, int]] = field(default_factory=list)
    socials: list[tuple[Any, ...]] = field(default_factory=list)


def generate(n: int, niche_ids: dict[str, int], seed: int) -> SeedRows:
    """All rows for n creators, deterministic for a given seed (dates relative to now)."""
    rng = random.Random(seed)
    pools = build_pools()
    now = datetime.now(UTC)
    countries = [c for c, _, _ in COUNTRIES]
    country_w = cumulative(w for _, w, _ in COUNTRIES)
    group_of = {c: g for c, _, g in COUNTRIES}
    groups = list(pools)
    niche_slugs = list(NICHE_WEIGHTS)
    niche_w = cumulative(NICHE_WEIGHTS.values())
    platform_w = cumulative(w for _, w, _ in PLATFORMS)
    taken: set[str] = set()
    rows = SeedRows()
    for pk in range(1, n + 1):
        country = rng.choices(countries, cum_weights=country_w)[0]
        group = group_of[country] if rng.random() < 0.85 else rng.choice(groups)
        female = rng.random() < 0.58
        first, last = pools[group].pick(rng, female)
        style = rng.random()
        if style < 0.85:
            display = f"{first} {last}"
        elif style < 0.95:
            display = f"{first} {last[0]}."
        else:
            display = first
        niches: list[str] = []
        for _ in range(rng.choices((1, 2, 3), (45, 35, 20))[0]):
            slug = rng.choices(niche_slugs, cum_weights=niche_w)[0]
            if slug not in niches:
                niches.append(slug)
        handle = handle_for(rng, first, last, niches[0], taken)
        # Log-normal audience: median ~6k, clipped to 100..10M.
        followers = int(min(10_000_000, max(100, 10 ** rng.gauss(3.8, 0.75))))
        # More recent sign-ups than old ones, spread over two years.
        created = now - SPAN * rng.random() ** 1.3
        updated = created + (now - created) * rng.random()
        languages = [LANGUAGE_OF_GROUP[group]] + (["en"] if rng.random() < 0.3 else [])
        bio = rng.choice(BIOS).format(niche=niches[0].capitalize(), country=country)
        is_active = rng.random() >= 0.02
        rows.users.append(
            (
                pk,
                "!bench-unusable",
                False,
                first,
                last,
                False,
                is_active,
                created - timedelta(minutes=rng.randint(1, 600)),
                f"{handle.lower()}@example.com",
            )
        )
        rows.profiles.append(
            (pk, pk, handle, display, bio, "", country, languages, followers, created, updated)
        )
        rows.niche_links.extend((pk, niche_ids[slug]) for slug in niches)
        platforms: list[tuple[str, str]] = []
        for _ in range(rng.choices((1, 2, 3), (50, 35, 15))[0]):
            platform, _, url = rng.choices(PLATFORMS, cum_weights=platform_w)[0]
            if all(platform != p for p, _ in platforms):
                platforms.append((platform, url))
        for i, (platform, url) in enumerate(platforms):
            count = followers if i == 0 else int(followers * rng.uniform(0.02, 1.0))
            social_handle = handle.lower()[:15] if platform == "x" else handle.lower()
            rows.socials.append((platform, social_handle, url.format(social_handle), count, pk))
    return rows


def seed(url: str, n: int, seed_value: int) -> float:
    """Replace the bench database's creators with n generated ones. Returns seconds taken."""
    from connect.models import CreatorProfile, SocialAccount, User

    start = time.perf_counter()
    with psycopg.connect(url) as conn, conn.cursor() as cur:
        niche_ids = dict(cur.execute("SELECT slug, id FROM connect_niche").fetchall())
        missing = set(NICHE_WEIGHTS) - set(niche_ids)
        if missing:
            raise SystemExit(f"Niches missing from the database: {sorted(missing)}")
        rows = generate(n, niche_ids, seed_value)
        generated = time.perf_counter()
        print(f"seed: generated {n:,} creators in {generated - start:.1f}s, loading by COPY")
        cur.execute("SET LOCAL maintenance_work_mem = '256MB'")
        cur.execute(
            "TRUNCATE connect_user, connect_creatorprofile, connect_creatorprofile_niches, "
            "connect_socialaccount, django_session RESTART IDENTITY CASCADE"
        )
        index_definitions = drop_secondary_indexes(cur, SEEDED_TABLES)
        # Check foreign keys at the end of each COPY rather than at commit: CREATE INDEX
        # refuses to run while deferred checks are pending.
        cur.execute("SET CONSTRAINTS ALL IMMEDIATE")
        copy_rows(
            cur,
            User,
            "id, password, is_superuser, first_name, last_name, is_staff, is_active, "
            "date_joined, email",
            rows.users,
        )
        copy_rows(
            cur,
            CreatorProfile,
            "id, user_id, handle, display_name, bio, avatar, country, languages, "
            "max_followers, created_at, updated_at",
            rows.profiles,
        )
        copy_rows(
            cur, CreatorProfile.niches.through, "creatorprofile_id, niche_id", rows.niche_links
        )
        copy_rows(
            cur,
            SocialAccount,
            "platform, handle, url, follower_count, profile_id",
            rows.socials,
        )
        copied = time.perf_counter()
        # Recreating the unique ones also checks the generated handles and emails.
        for definition in index_definitions:
            cur.execute(definition)
        for table in SEEDED_TABLES:
            cur.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT max(id) FROM {table}))"
            )
    loaded = time.perf_counter()
    print(
        f"seed: {len(rows.users):,} users, {len(rows.profiles):,} profiles, "
        f"{len(rows.niche_links):,} niche links, {len(rows.socials):,} social accounts "
        f"copied in {copied - generated:.1f}s, {len(index_definitions)} indexes rebuilt in "
        f"{loaded - copied:.1f}s"
    )
    vacuum_analyze(url, SEEDED_TABLES)
    print(f"seed: VACUUM (ANALYZE) in {time.perf_counter() - loaded:.1f}s")
    return time.perf_counter() - start


def creator_count(url: str) -> int:
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT count(*) FROM connect_creatorprofile").fetchone()
        return int(row[0]) if row else 0


# --- measuring -----------------------------------------------------------------------------


class QueryRecorder:
    """A connection execute wrapper that times every SQL statement of a request."""

    def __init__(self) -> None:
        self.statements: list[tuple[str, Any, float]] = []

    def __call__(
        self, execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any
    ) -> Any:
        start = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.statements.append((sql, params, (time.perf_counter() - start) * 1000))

    def reset(self) -> None:
        self.statements = []

    @property
    def sql_ms(self) -> float:
        return sum(ms for _, _, ms in self.statements)

    @property
    def count_ms(self) -> float:
        return sum(ms for sql, _, ms in self.statements if is_count(sql))


def is_count(sql: str) -> bool:
    return sql.lstrip().upper().startswith("SELECT COUNT(*)")


def is_page_query(sql: str) -> bool:
    """The directory's page of profiles (not the header's own-profile lookup)."""
    return (
        'FROM "connect_creatorprofile"' in sql
        and "ORDER BY" in sql
        and "LIMIT" in sql
        and not is_count(sql)
    )


@dataclass
class Result:
    key: str
    label: str
    path: str
    matches: str = "-"
    timing: Timing = field(default_factory=lambda: Timing(""))
    sql_ms: list[float] = field(default_factory=list)
    count_ms: list[float] = field(default_factory=list)
    # The statements of the last timed request, for EXPLAIN.
    statements: list[tuple[str, Any, float]] = field(default_factory=list)

    @property
    def other_ms(self) -> list[float]:
        """Per request, the time outside SQL: Python, templates, Redis (session)."""
        return [t - s for t, s in zip(self.timing.samples_ms, self.sql_ms, strict=True)]


MATCHES_RE = re.compile(r"([\d,]+) creators? match")


def measure_all(
    client: Any, results: list[Result], recorder: QueryRecorder, repeat: int, warmup: int
) -> None:
    """Request every path once (must answer 200), then time them all round-robin."""
    for result in results:
        response = client.get(result.path)
        if response.status_code != 200:
            raise SystemExit(f"GET {result.path} answered {response.status_code}, expected 200")
        found = MATCHES_RE.search(response.content.decode())
        if found:
            result.matches = found.group(1)
    by_key = {r.key: r for r in results}

    def request(path: str) -> Callable[[], None]:
        def call() -> None:
            recorder.reset()
            client.get(path)

        return call

    def collect(key: str) -> None:
        result = by_key[key]
        result.sql_ms.append(recorder.sql_ms)
        result.count_ms.append(recorder.count_ms)
        result.statements = list(recorder.statements)

    timings = time_interleaved(
        {r.key: request(r.path) for r in results},
        repeat=repeat,
        warmup=warmup,
        after_each=collect,
    )
    for key, timing in timings.items():
        by_key[key].timing = timing


# --- EXPLAIN -------------------------------------------------------------------------------


def explain(sql: str, params: Any) -> dict[str, Any]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + sql, params)
        raw = cursor.fetchone()[0]
    return (json.loads(raw) if isinstance(raw, str) else raw)[0]


def walk(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield node
    for child in node.get("Plans", []):
        yield from walk(child)


def describe(node: dict[str, Any]) -> str:
    text = node["Node Type"]
    if node.get("Strategy") and node["Node Type"] == "Aggregate":
        text = f"{node['Strategy']} {text}"
    if "Index Name" in node:
        text += f" using {node['Index Name']}"
    if "Relation Name" in node:
        text += f" on {node['Relation Name']}"
    if "Sort Method" in node:
        text += f" ({node['Sort Method']})"
    loops = node.get("Actual Loops", 1)
    text += f"  rows={node.get('Actual Rows', 0)}"
    if loops > 1:
        text += f" loops={loops}"
    return text + f"  {node.get('Actual Total Time', 0):.1f} ms"


def plan_summary(plan: dict[str, Any]) -> str:
    root = plan["Plan"]
    nodes = list(walk(root))
    indexes = sorted({n["Index Name"] for n in nodes if "Index Name" in n})
    seq = sorted({n["Relation Name"] for n in nodes if n["Node Type"] == "Seq Scan"})
    # Rows read and thrown away: large when a scan tests rows one by one (a walk along a
    # sort index looking for LIMIT matches, a sequential scan).
    removed = sum(
        n.get("Rows Removed by Filter", 0) * n.get("Actual Loops", 1)
        + n.get("Rows Removed by Index Recheck", 0) * n.get("Actual Loops", 1)
        for n in nodes
    )
    parts = [
        f"top={root['Node Type']}",
        f"exec={plan['Execution Time']:.1f} ms",
        f"buffers hit={root.get('Shared Hit Blocks', 0)} read={root.get('Shared Read Blocks', 0)}",
        f"rows filtered out={removed}",
        f"indexes={','.join(indexes) or '-'}",
        f"seq_scans={','.join(seq) or '-'}",
    ]
    return "  ".join(parts)


def print_tree(node: dict[str, Any], depth: int = 0) -> None:
    print(f"      {'   ' * depth}{'-> ' if depth else ''}{describe(node)}")
    for child in node.get("Plans", []):
        print_tree(child, depth + 1)


def print_plans(result: Result, *, tree: bool | None = None) -> set[str]:
    """EXPLAIN (ANALYZE, BUFFERS) the page query and the COUNT the view ran last, print a
    one-line summary of each and, when `tree` (default: for statements taking longer than
    SLOW_STATEMENT_MS), the plan tree. Returns the names of the indexes the plans use."""
    print(f"  [{result.key}] {result.label}")
    seen: set[str] = set()
    indexes: set[str] = set()
    for sql, params, _ in result.statements:
        kind = "count" if is_count(sql) else "page" if is_page_query(sql) else None
        if kind is None or kind in seen:
            continue
        seen.add(kind)
        plan = explain(sql, params)
        indexes |= {n["Index Name"] for n in walk(plan["Plan"]) if "Index Name" in n}
        print(f"    {kind:5}  {plan_summary(plan)}")
        if tree or (tree is None and plan["Execution Time"] > SLOW_STATEMENT_MS):
            print_tree(plan["Plan"])
    return indexes


# --- main ----------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--creators", type=int, default=DEFAULT_CREATORS)
    parser.add_argument("--reseed", action="store_true", help="rebuild the seeded creators")
    parser.add_argument("--repeat", type=int, default=30, help="timed requests per query")
    parser.add_argument("--warmup", type=int, default=3, help="untimed requests per query")
    parser.add_argument("--seed", type=int, default=2024, help="random seed for the data")
    parser.add_argument("--plans", action="store_true", help="print every plan as a tree")
    args = parser.parse_args()

    # WhiteNoise warns that STATIC_ROOT is missing (collectstatic is a deploy step).
    warnings.filterwarnings("ignore", message="No directory at")
    url = prepare_bench_database()
    existing = creator_count(url)
    if args.reseed or existing != args.creators:
        why = "--reseed" if args.reseed else f"found {existing:,} creators"
        print(f"seed: {why}, seeding {args.creators:,}")
        seed(url, args.creators, args.seed)
    else:
        print(f"seed: reusing {existing:,} seeded creators (--reseed to rebuild)")

    from django.db import connection
    from django.template import engines
    from django.test import Client, override_settings

    from connect.models import User

    staff, _ = User.objects.update_or_create(
        email=STAFF_EMAIL, defaults={"is_staff": True, "is_active": True, "is_superuser": False}
    )
    staff.set_unusable_password()
    staff.save(update_fields=["password"])

    floor = Result("floor", "floor: GET /robots.txt", "/robots.txt")
    results = [
        Result(sc.key, sc.label, "/creators/" + (f"?{sc.query}" if sc.query else ""))
        for sc in SCENARIOS
    ]
    recorder = QueryRecorder()
    # Production runs with DEBUG off: no query log, no template debug information.
    with override_settings(DEBUG=False), connection.execute_wrapper(recorder):
        client = Client(HTTP_HOST="localhost")
        client.force_login(staff)
        print(
            f"measuring: {args.warmup} warm-up + {args.repeat} timed rounds over "
            f"{len(results) + 1} URLs, round-robin; DEBUG=False, "
            f"template debug={engines['django'].engine.debug}; {load_average()}"
        )
        started = time.perf_counter()
        measure_all(client, [*results, floor], recorder, args.repeat, args.warmup)
    print(f"measured in {time.perf_counter() - started:.0f}s; {load_average()}")

    n_creators = creator_count(url)
    print()
    print(f"GET /creators/ as staff, {n_creators:,} creators, times in ms")
    print_table(
        [
            "query",
            "matches",
            "sql#",
            "p50",
            "p95",
            "p99",
            "sql p50",
            "count p50",
            "other p50",
            "x floor",
        ],
        [
            (
                r.label,
                r.matches,
                len(r.statements),
                r.timing.p50,
                r.timing.p95,
                r.timing.p99,
                percentile(r.sql_ms, 50),
                percentile(r.count_ms, 50),
                percentile(r.other_ms, 50),
                f"{r.timing.p50 / floor.timing.p50:.0f}x",
            )
            for r in [*results, floor]
        ],
    )
    print(
        "sql# = SQL statements per request; sql p50 = time inside them; count p50 = the "
        "paginator's SELECT COUNT(*) alone;\nother p50 = the rest (Python, templates, the "
        "Redis session read); x floor = p50 over the robots.txt p50."
    )

    by_key = {r.key: r for r in results}
    print()
    print("EXPLAIN (ANALYZE, BUFFERS) of the text search (the view's own SQL):")
    search = by_key[SEARCH_KEY]
    used = print_plans(search, tree=True)
    for index in TRIGRAM_INDEXES:
        print(f"  {index}: {'used' if index in used else 'NOT used'}")

    print()
    print(f"Plans of the other queries (trees for statements over {SLOW_STATEMENT_MS:.0f} ms):")
    for r in results:
        if r.key != SEARCH_KEY:
            print_plans(r, tree=True if args.plans else None)
    slow = [r for r in results if r.timing.p50 > SLOW_P50_MS]
    print()
    if slow:
        print(f"slow (p50 > {SLOW_P50_MS:.0f} ms): " + ", ".join(r.label for r in slow))
    else:
        print(f"no query has p50 > {SLOW_P50_MS:.0f} ms")

    worst = max(r.timing.p95 for r in results)
    print(
        result_line(
            creators=n_creators,
            search_p50_ms=f"{search.timing.p50:.1f}",
            search_p95_ms=f"{search.timing.p95:.1f}",
            worst_p95_ms=f"{worst:.1f}",
            trivial_p50_ms=f"{floor.timing.p50:.2f}",
        )
    )


if __name__ == "__main__":
    main()
