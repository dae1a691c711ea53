from django.db import migrations, models


class Migration(migrations.Migration):
    """organizations.status_page_public (DESIGN.md SQL contract): opt-in public status page, off by default."""

    dependencies = [("tenancy", "0004_api_tokens_hashed")]

    operations = [
        migrations.AddField(
            model_name="organization",
            name="status_page_public",
            field=models.BooleanField(
                db_default=False,
                default=False,
                help_text="Publish a status page at /status/<slug>/ (no login): services, open incidents, 90-day uptime",
            ),
        ),
    ]
