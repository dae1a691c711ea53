"""Move channels, routing rules, deliveries and attempts to the notifications app: state only.

The tables keep their names and rows (``notification_channels``, ``apm_notification_rules``,
``apm_notification_rule_channels``, ``notification_deliveries``, ``notification_delivery_attempts``);
``notifications/0001_initial`` adds the same models to the new app's state.
"""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('alerts', '0014_pattern_evaluation'),
        ('notifications', '0001_initial'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.RemoveField(
                    model_name='deliveryattempt',
                    name='delivery',
                ),
                migrations.RemoveField(
                    model_name='deliveryattempt',
                    name='organization',
                ),
                migrations.RemoveField(
                    model_name='notificationchannel',
                    name='organization',
                ),
                migrations.RemoveField(
                    model_name='notificationdelivery',
                    name='channel',
                ),
                migrations.RemoveField(
                    model_name='notificationrule',
                    name='channels',
                ),
                migrations.RemoveField(
                    model_name='notificationrulechannel',
                    name='channel',
                ),
                migrations.RemoveField(
                    model_name='notificationdelivery',
                    name='alert',
                ),
                migrations.RemoveField(
                    model_name='notificationdelivery',
                    name='incident',
                ),
                migrations.RemoveField(
                    model_name='notificationdelivery',
                    name='organization',
                ),
                migrations.RemoveField(
                    model_name='notificationrule',
                    name='organization',
                ),
                migrations.RemoveField(
                    model_name='notificationrulechannel',
                    name='rule',
                ),
                migrations.RemoveField(
                    model_name='notificationrulechannel',
                    name='organization',
                ),
                migrations.DeleteModel(
                    name='DeliveryAttempt',
                ),
                migrations.DeleteModel(
                    name='NotificationChannel',
                ),
                migrations.DeleteModel(
                    name='NotificationDelivery',
                ),
                migrations.DeleteModel(
                    name='NotificationRule',
                ),
                migrations.DeleteModel(
                    name='NotificationRuleChannel',
                ),
            ],
        ),
    ]
