"""Each user's verified email addresses (a new table; existing rows are untouched)."""
# ruff: noqa: RUF012

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("otpgate", "0003_remembereddevice"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="VerifiedEmail",
            fields=[
                ("id", models.BigAutoField(primary_key=True, serialize=False)),
                ("address", models.CharField(max_length=254, verbose_name="email address")),
                ("created_at", models.DateTimeField(auto_now_add=True, verbose_name="added")),
                (
                    "user",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="otpgate_emails",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="user",
                    ),
                ),
            ],
            options={
                "verbose_name": "verified email address",
                "verbose_name_plural": "verified email addresses",
                "ordering": ("id",),
                "constraints": [
                    models.UniqueConstraint(
                        fields=("user", "address"), name="otpgate_unique_user_email"
                    )
                ],
            },
        ),
    ]
