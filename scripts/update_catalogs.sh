#!/usr/bin/env bash
# Extract every translatable string into the Polish and Spanish catalogs (locale/*/LC_MESSAGES/
# django.po). New strings arrive with an empty msgstr and must be translated before
# tests/connect/test_translations.py passes; see docs/translations.md.
#
# Source locations are left out (--no-location) so that moving code around does not churn the
# catalogs. tests/connect/test_translations.py runs makemessages with the same options: keep
# the two in step.
set -euo pipefail
cd "$(dirname "$0")/.."

PY="${PY:-.venv/bin/python}"

"$PY" manage.py makemessages -l pl -l es \
  --ignore=.venv --ignore=node_modules --ignore=staticfiles --ignore=media \
  --ignore=tests --ignore=benchmarks --no-location

echo "Catalogs updated. Statistics (every message must be translated, none fuzzy):"
for po in locale/*/LC_MESSAGES/django.po; do
  printf '  %s: ' "$po"
  msgfmt --statistics --check -o /dev/null "$po" 2>&1
done
