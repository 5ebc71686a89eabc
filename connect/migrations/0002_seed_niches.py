from django.db import migrations
from django.utils.translation import gettext_noop

# The managed list of niches. Names are marked for translation; staff may add more in the
# admin (those show in the language they were typed in until the catalogs learn them).
NICHES = [
    ("fashion", gettext_noop("Fashion")),
    ("beauty", gettext_noop("Beauty")),
    ("fitness", gettext_noop("Fitness")),
    ("food", gettext_noop("Food & drink")),
    ("travel", gettext_noop("Travel")),
    ("tech", gettext_noop("Tech")),
    ("gaming", gettext_noop("Gaming")),
    ("home", gettext_noop("Home & living")),
    ("parenting", gettext_noop("Parenting")),
    ("pets", gettext_noop("Pets")),
    ("finance", gettext_noop("Finance")),
    ("music", gettext_noop("Music")),
    ("sports", gettext_noop("Sports")),
    ("education", gettext_noop("Education")),
    ("lifestyle", gettext_noop("Lifestyle")),
]


def seed(apps, schema_editor):
    Niche = apps.get_model("connect", "Niche")
    for position, (slug, name) in enumerate(NICHES):
        Niche.objects.update_or_create(slug=slug, defaults={"name": name, "position": position})


class Migration(migrations.Migration):
    dependencies = [("connect", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
