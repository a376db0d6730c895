"""Remembered devices ("don't ask again on this device"): a new table of keyed digests."""
# ruff: noqa: RUF012

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("otpgate", "0002_preferredfactor"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="RememberedDevice",
            fields=[
                ("id", models.BigAutoField(primary_key=True, serialize=False)),
                ("ref", models.CharField(max_length=16, unique=True, verbose_name="reference")),
                ("digest", models.CharField(max_length=128, verbose_name="digest")),
                ("binding", models.CharField(max_length=128, verbose_name="binding")),
                ("label", models.CharField(blank=True, max_length=64, verbose_name="browser")),
                ("place", models.CharField(blank=True, max_length=64, verbose_name="network")),
                ("created_ts", models.FloatField(verbose_name="first seen (Unix time)")),
                ("last_seen_ts", models.FloatField(verbose_name="last seen (Unix time)")),
                ("expires_ts", models.FloatField(verbose_name="expires (Unix time)")),
                (
                    "user",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="otpgate_devices",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="user",
                    ),
                ),
            ],
            options={
                "verbose_name": "remembered device",
                "verbose_name_plural": "remembered devices",
                "ordering": ("-last_seen_ts", "ref"),
            },
        ),
    ]
