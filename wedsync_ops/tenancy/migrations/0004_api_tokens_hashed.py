"""People's API tokens are stored hashed (django-rest-knox): existing plaintext DRF tokens move over and
their table is dropped.

Each ``authtoken_token`` row becomes a knox token with the same secret (its SHA-512 digest, the first
15 characters as ``token_key``, an expiry ``API_TOKEN_TTL_DAYS`` from now), so scripts that hold one keep
working until it expires; then ``authtoken_token`` (plaintext) is dropped. A database that never had
DRF's tables has nothing to move.
"""

import datetime as dt

from django.conf import settings
from django.db import migrations


def move_tokens(apps, schema_editor):
    from knox.crypto import hash_token
    from knox.settings import CONSTANTS

    with schema_editor.connection.cursor() as cur:
        cur.execute("SELECT to_regclass('public.authtoken_token') IS NOT NULL")
        if not cur.fetchone()[0]:
            return
        cur.execute("SELECT key, user_id, created FROM authtoken_token")
        rows = cur.fetchall()
        ttl = settings.REST_KNOX.get("TOKEN_TTL", dt.timedelta(days=90))
        for key, user_id, created in rows:
            cur.execute(
                "INSERT INTO knox_authtoken (digest, token_key, user_id, created, expiry)"
                " VALUES (%s, %s, %s, %s, now() + %s) ON CONFLICT DO NOTHING",
                [hash_token(key), key[: CONSTANTS.TOKEN_KEY_LENGTH], user_id, created, ttl],
            )
        cur.execute("DROP TABLE authtoken_token")


class Migration(migrations.Migration):
    dependencies = [("tenancy", "0003_dba_context"), ("knox", "0009_extend_authtoken_field")]
    operations = [migrations.RunPython(move_tokens, migrations.RunPython.noop)]
