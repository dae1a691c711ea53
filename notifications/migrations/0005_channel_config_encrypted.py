"""Channel configurations are encrypted at rest: ``notification_channels.config`` (plaintext jsonb) becomes
``config_encrypted`` (a Fernet token of the same JSON under ``FIELD_ENCRYPTION_KEYS``, ``wedsync_ops.crypto``).

Every row is encrypted in the migration's transaction (as the owner, in a service context: the table's
row-level security is forced); then the plaintext column is dropped. Reversing decrypts back.
"""

import json

from django.db import migrations

import wedsync_ops.crypto


def encrypt_rows(apps, schema_editor):
    from wedsync_ops.crypto import encrypt_json

    with schema_editor.connection.cursor() as cur:
        cur.execute("SELECT set_config('app.role', 'service', true)")
        cur.execute("SELECT id, config FROM notification_channels")
        for pk, config in cur.fetchall():
            data = config if isinstance(config, dict) else json.loads(config or "{}")
            cur.execute("UPDATE notification_channels SET config_encrypted = %s WHERE id = %s",
                        [encrypt_json(data or {}), pk])


def decrypt_rows(apps, schema_editor):
    from wedsync_ops.crypto import decrypt_json

    with schema_editor.connection.cursor() as cur:
        cur.execute("SELECT set_config('app.role', 'service', true)")
        cur.execute("SELECT id, config_encrypted FROM notification_channels")
        for pk, token in cur.fetchall():
            cur.execute("UPDATE notification_channels SET config = %s::jsonb WHERE id = %s",
                        [json.dumps(decrypt_json(token)), pk])


class Migration(migrations.Migration):
    dependencies = [("notifications", "0004_attempt_details")]
    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunSQL(
                    "ALTER TABLE notification_channels ADD COLUMN config_encrypted text NOT NULL DEFAULT ''",
                    "ALTER TABLE notification_channels DROP COLUMN config_encrypted",
                ),
                migrations.RunPython(encrypt_rows, decrypt_rows),
                migrations.RunSQL(
                    "ALTER TABLE notification_channels DROP COLUMN config",
                    "ALTER TABLE notification_channels ADD COLUMN config jsonb NOT NULL DEFAULT '{}'::jsonb",
                ),
            ],
            state_operations=[
                migrations.AlterField(
                    model_name="notificationchannel",
                    name="config",
                    field=wedsync_ops.crypto.EncryptedJSONField(blank=True, db_column="config_encrypted",
                                                                default=dict),
                ),
            ],
        ),
    ]
