"""Page URLs: ``/`` (``home``, settings.LOGIN_REDIRECT_URL), ``/ops/saturday/``, ``/org/<slug>/``."""

from django.urls import path

from . import tokens, views

urlpatterns = [
    path("", views.home, name="home"),
    path("ops/saturday/", views.saturday, name="ops-saturday"),
    path("org/<slug:slug>/", views.organization, name="org-home"),
    path("accounts/tokens/", tokens.api_tokens, name="api-tokens"),
]
