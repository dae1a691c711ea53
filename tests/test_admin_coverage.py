"""Every model of the portal is in the admin, with list filters and search, for staff only."""

import pytest
from django.apps import apps
from django.contrib import admin
from django.db import models
from django.urls import reverse

PORTAL_APPS = (
    "tenancy",
    "notifications",
    "apm",
    "alerts",
    "incidents",
    "dbmonitor",
    "heartbeats",
    "oncall",
    "business",
)


def _portal_models():
    return [m for m in apps.get_models() if m._meta.app_label in PORTAL_APPS]


def _inline_models():
    """Models edited as inlines of a registered admin (their parent's page is their admin)."""
    return {inline.model for model_admin in admin.site._registry.values() for inline in model_admin.inlines}


def _has_text(model) -> bool:
    """Whether the model has a text column to search (a table of numbers only needs filters)."""
    return any(isinstance(f, (models.CharField, models.TextField)) for f in model._meta.concrete_fields)


def test_every_portal_model_is_registered_with_filters_and_search():
    inline_only = _inline_models()
    missing, bare = [], []
    for model in _portal_models():
        model_admin = admin.site._registry.get(model)
        if model_admin is None:
            if model not in inline_only:
                missing.append(model.__name__)
        elif not model_admin.list_filter or (_has_text(model) and not model_admin.search_fields):
            bare.append(model.__name__)
    assert missing == [] and bare == []


@pytest.mark.parametrize(
    "model",
    [m for m in _portal_models() if m in admin.site._registry],
    ids=lambda m: f"{m._meta.app_label}.{m.__name__}",
)
def test_staff_open_every_changelist_and_vendors_get_nothing(world, client, model):
    url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
    world.staff.is_superuser = True
    world.staff.save()
    client.force_login(world.staff)
    assert client.get(url).status_code == 200
    client.force_login(world.alice)  # an org admin is still not staff
    response = client.get(url)
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
