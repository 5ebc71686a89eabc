"""The Polish and Spanish catalogs are complete, compile, and are what visitors see.

The completeness test extracts the strings afresh from a copy of the source, exactly as
scripts/update_catalogs.sh does, and fails on any string the committed catalogs lack or leave
untranslated. See docs/translations.md.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import polib
import pytest
from django.apps import apps
from django.conf import settings as django_settings
from django.test import Client
from pytest_django import Settings

BASE_DIR = Path(django_settings.BASE_DIR)
LANGUAGES = ["pl", "es"]

# The same command as scripts/update_catalogs.sh: keep the two in step.
MAKEMESSAGES_ARGS = [
    "manage.py",
    "makemessages",
    "-l",
    "pl",
    "-l",
    "es",
    "--ignore=.venv",
    "--ignore=node_modules",
    "--ignore=staticfiles",
    "--ignore=media",
    "--ignore=tests",
    "--ignore=benchmarks",
    "--no-location",
]

HERO_TITLES = {
    "en": "Earn on the sales you drive.",
    "pl": "Zarabiaj na sprzedaży, którą generujesz.",
    "es": "Gana con las ventas que generas.",
}


def _catalog_path(root: Path, language: str) -> Path:
    return root / "locale" / language / "LC_MESSAGES" / "django.po"


def _project_sources() -> list[str]:
    """The project's own app packages (found from INSTALLED_APPS), config, templates and locale."""
    own_apps = {
        Path(app_config.path).name
        for app_config in apps.get_app_configs()
        if Path(app_config.path).parent == BASE_DIR
    }
    return sorted(own_apps | {"config", "templates", "locale"})


@pytest.fixture(scope="module")
def extracted_catalogs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, polib.POFile]:
    """Catalogs freshly extracted by makemessages from a copy of the current source."""
    workdir = tmp_path_factory.mktemp("extract")
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.mo")
    for name in _project_sources():
        shutil.copytree(BASE_DIR / name, workdir / name, ignore=ignore)
    shutil.copy2(BASE_DIR / "manage.py", workdir / "manage.py")

    result = subprocess.run(
        [sys.executable, *MAKEMESSAGES_ARGS],
        cwd=workdir,
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    return {language: polib.pofile(str(_catalog_path(workdir, language))) for language in LANGUAGES}


@pytest.fixture
def compiled_locale(settings: Settings, tmp_path: Path) -> Path:
    """The committed catalogs compiled afresh, so that a stale or missing .mo can't hide a gap."""
    locale_dir = tmp_path / "locale"
    for language in LANGUAGES:
        mo = locale_dir / language / "LC_MESSAGES" / "django.mo"
        mo.parent.mkdir(parents=True)
        subprocess.run(
            ["msgfmt", "--check", "-o", str(mo), str(_catalog_path(BASE_DIR, language))],
            check=True,
        )
    # Changing LOCALE_PATHS makes Django drop the translations it has loaded.
    settings.LOCALE_PATHS = [locale_dir]
    return locale_dir


def _key(entry: polib.POEntry) -> tuple[str | None, str, str]:
    return (entry.msgctxt, entry.msgid, entry.msgid_plural)


def _nplurals(catalog: polib.POFile) -> int:
    match = re.search(r"nplurals\s*=\s*(\d+)", catalog.metadata["Plural-Forms"])
    assert match is not None
    return int(match.group(1))


def _is_translated(entry: polib.POEntry, nplurals: int) -> bool:
    if "fuzzy" in entry.flags:
        return False
    if entry.msgid_plural:
        forms = entry.msgstr_plural
        return sorted(forms) == list(range(nplurals)) and all(forms.values())
    return bool(entry.msgstr)


@pytest.mark.parametrize("language", LANGUAGES)
def test_committed_catalog_translates_every_string_in_the_source(
    language: str, extracted_catalogs: dict[str, polib.POFile]
) -> None:
    # given
    committed = polib.pofile(str(_catalog_path(BASE_DIR, language)))
    committed_entries = {_key(entry): entry for entry in committed if not entry.obsolete}
    nplurals = _nplurals(committed)
    source_entries = [entry for entry in extracted_catalogs[language] if not entry.obsolete]

    # when
    missing = [entry.msgid for entry in source_entries if _key(entry) not in committed_entries]
    untranslated = [
        entry.msgid
        for entry in source_entries
        if _key(entry) in committed_entries
        and not _is_translated(committed_entries[_key(entry)], nplurals)
    ]

    # then
    assert len(source_entries) > 0
    # Fix: run scripts/update_catalogs.sh, then translate what it added (docs/translations.md).
    assert {"missing": missing, "untranslated": untranslated} == {"missing": [], "untranslated": []}


@pytest.mark.parametrize("language", LANGUAGES)
def test_committed_catalog_has_no_fuzzy_entries(language: str) -> None:
    # given
    committed = polib.pofile(str(_catalog_path(BASE_DIR, language)))

    # when
    fuzzy = [entry.msgid for entry in committed.fuzzy_entries()]

    # then
    assert not committed.metadata_is_fuzzy
    assert fuzzy == []


@pytest.mark.parametrize(
    ("language", "expected"), [("pl", "Jedzenie i napoje"), ("es", "Comida y bebida")]
)
def test_seeded_niche_names_are_extracted_from_the_migration_and_translated(
    language: str, expected: str, extracted_catalogs: dict[str, polib.POFile]
) -> None:
    # given
    committed = polib.pofile(str(_catalog_path(BASE_DIR, language)))

    # when
    extracted = extracted_catalogs[language].find("Food & drink")
    translated = committed.find("Food & drink")

    # then
    assert extracted is not None
    assert translated is not None
    assert translated.msgstr == expected


@pytest.mark.parametrize("language", LANGUAGES)
def test_committed_catalog_compiles_with_msgfmt_check(language: str) -> None:
    # given
    catalog = _catalog_path(BASE_DIR, language)

    # when
    result = subprocess.run(
        ["msgfmt", "--check", "-o", os.devnull, str(catalog)],
        capture_output=True,
        text=True,
        check=False,
    )

    # then
    assert result.returncode == 0
    assert result.stderr == ""


def test_update_script_runs_makemessages_with_the_options_of_this_test() -> None:
    # given
    script = (BASE_DIR / "scripts" / "update_catalogs.sh").read_text()

    # when
    command = " ".join(script.replace("\\\n", " ").split())

    # then
    assert '"$PY" ' + " ".join(MAKEMESSAGES_ARGS) in command


def _hero_title(html: str) -> str:
    match = re.search(r"<h1[^>]*>(.*?)</h1>", html, re.DOTALL)
    assert match is not None
    return match.group(1).strip()


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["en", "pl", "es"])
def test_landing_page_is_rendered_in_the_browser_language(
    language: str, client: Client, compiled_locale: Path
) -> None:
    # given
    headers = {"Accept-Language": language}

    # when
    response = client.get("/", headers=headers)

    # then
    assert response.status_code == 200
    html = response.content.decode()
    assert f'<html lang="{language}">' in html
    assert _hero_title(html) == HERO_TITLES[language]


@pytest.mark.django_db
def test_language_switcher_overrides_the_browser_language(
    client: Client, compiled_locale: Path
) -> None:
    # given
    before = client.get("/", headers={"Accept-Language": "pl"})
    assert _hero_title(before.content.decode()) == HERO_TITLES["pl"]

    # when
    switched = client.post("/i18n/setlang/", {"language": "es", "next": "/"})
    response = client.get("/", headers={"Accept-Language": "pl"})

    # then
    assert switched.status_code == 302
    assert switched["Location"] == "/"
    assert client.cookies[django_settings.LANGUAGE_COOKIE_NAME].value == "es"
    assert response.status_code == 200
    assert _hero_title(response.content.decode()) == HERO_TITLES["es"]
