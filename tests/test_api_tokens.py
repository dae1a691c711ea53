"""People's API tokens are hashed, shown once, expire and can be revoked (issue 13, item 2)."""

import datetime as dt
import io

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection
from rest_framework.test import APIClient

from tests.factories import make_user_token

TOKENS = "/accounts/tokens/"


def _rows(sql, params=None):
    with connection.cursor() as cur:
        cur.execute(sql, params or [])
        return cur.fetchall()


def test_drf_create_token_prints_a_working_token_and_stores_only_its_digest(world):
    out, err = io.StringIO(), io.StringIO()
    call_command("drf_create_token", "bob", stdout=out, stderr=err)
    line = out.getvalue().strip()
    assert line.startswith("Generated token wsu_") and line.endswith(" for user bob")
    token = line.split()[2]
    assert "shown once" in err.getvalue() and token not in err.getvalue()
    stored = _rows("SELECT digest, token_key, expiry FROM knox_authtoken")
    assert len(stored) == 1 and token not in stored[0][0] and stored[0][1] == token[:15]
    assert not [r for r in _rows("SELECT * FROM knox_authtoken") if any(token == str(v) for v in r)]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert client.get("/api/v1/incidents/").status_code == 200
    bearer = APIClient()  # the Alertmanager API v2 takes the same token as a Bearer token
    assert bearer.get("/api/v2/alerts", HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 200


def test_a_token_expires(world):
    token = make_user_token(world.bob)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert client.get("/api/v1/incidents/").status_code == 200
    with time_machine.travel(dt.datetime.now(dt.UTC) + dt.timedelta(days=91), tick=False):
        assert client.get("/api/v1/incidents/").status_code == 401


def test_the_tokens_page_shows_a_new_token_once_and_revokes(client, world):
    client.force_login(world.alice)
    created = client.post(TOKENS, {"action": "create", "expiry_days": "30"})
    assert created.status_code == 200
    token = created.context["created"]
    assert token.startswith("wsu_") and token in created.content.decode()
    listing = client.get(TOKENS).content.decode()
    assert token not in listing and token[:15] in listing
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert api.get("/api/v1/alert-rules/").status_code == 200
    ((digest,),) = _rows("SELECT digest FROM knox_authtoken")
    client.force_login(world.bob)  # another person cannot revoke it
    assert client.post(TOKENS, {"action": "revoke", "token": digest}).status_code == 400
    client.force_login(world.alice)
    assert client.post(TOKENS, {"action": "revoke", "token": digest}).status_code == 302
    assert api.get("/api/v1/alert-rules/").status_code == 401


@pytest.mark.parametrize("days", ["0", "367", "x", "99999999999999999999"])
def test_a_bad_expiry_is_400(client, world, days):
    client.force_login(world.alice)
    assert client.post(TOKENS, {"action": "create", "expiry_days": days}).status_code == 400
    assert _rows("SELECT count(*) FROM knox_authtoken") == [(0,)]


def test_anonymous_visitors_get_the_login_page(client, db):
    response = client.get(TOKENS)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
