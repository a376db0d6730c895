"""Each user's preferred second factor (a new table; existing rows are untouched)."""
# ruff: noqa: RUF012

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("otpgate", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="PreferredFactor",
            fields=[
                ("id", models.BigAutoField(primary_key=True, serialize=False)),
                ("factor", models.CharField(max_length=32, verbose_name="factor")),
                ("updated_at", models.DateTimeField(auto_now=True, verbose_name="chosen")),
                (
                    "user",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="otpgate_preferred_factor",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="user",
                    ),
                ),
            ],
            options={
                "verbose_name": "preferred factor",
                "verbose_name_plural": "preferred factors",
            },
        ),
    ]
