"""Receivers' answers to failed attempts, staff-only (``policies/notification_attempt_details.staff_rows.v1.sql``)."""

import django.db.models.deletion
from django.db import migrations, models

from wedsync_ops.db import run_sql_file


class Migration(migrations.Migration):

    dependencies = [
        ('notifications', '0003_pages_to_people'),
    ]

    operations = [
        migrations.CreateModel(
            name='DeliveryAttemptDetail',
            fields=[
                ('attempt', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, primary_key=True, related_name='detail', serialize=False, to='notifications.deliveryattempt')),
                ('response_body', models.TextField(blank=True)),
            ],
            options={
                'db_table': 'notification_attempt_details',
            },
        ),
        run_sql_file(__file__, "policies/notification_attempt_details.staff_rows.v1.sql", reverse="DROP POLICY IF EXISTS staff_rows ON notification_attempt_details"),
    ]
