"""Every model the admin lists is named in good English: no "Entrys", "Evidences" or "Voice settingss"."""

import re

import pytest
from django.contrib import admin

# Nouns that take no plural "s" in English, and the ones ending in a consonant + y, s, x, ch or sh, which
# Django's default (the singular + "s") gets wrong.
UNCOUNTABLE = {"evidence", "settings", "data", "metadata"}
NEEDS_OWN_PLURAL = re.compile(r"([^aeiou]y|s|x|ch|sh)$")


@pytest.mark.parametrize(
    "model", sorted(admin.site._registry, key=lambda m: m._meta.label), ids=lambda m: m._meta.label
)
def test_it_names_each_admin_model_in_good_english(model):
    singular, plural = str(model._meta.verbose_name), str(model._meta.verbose_name_plural)
    last_word = singular.split()[-1]
    if last_word in UNCOUNTABLE:
        assert plural == singular
    elif NEEDS_OWN_PLURAL.search(singular):
        assert plural != f"{singular}s", f"{model._meta.label} is listed as {plural!r}"


def test_it_lists_the_voice_settings_under_their_own_name(client, staff):
    staff.is_superuser = True
    staff.save(update_fields=["is_superuser"])
    client.force_login(staff)
    page = client.get("/admin/").content.decode()
    assert ">Voice settings<" in page
    assert "settingss" not in page.lower()
