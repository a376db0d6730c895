"""otpgate's tables: verified phones, authenticator apps (sealed secrets), recovery codes."""
# ruff: noqa: RUF012

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="RecoveryCode",
            fields=[
                ("id", models.BigAutoField(primary_key=True, serialize=False)),
                ("digest", models.CharField(db_index=True, max_length=128, verbose_name="digest")),
                ("created_at", models.DateTimeField(auto_now_add=True, verbose_name="created")),
                ("used_at", models.DateTimeField(blank=True, null=True, verbose_name="used")),
                (
                    "user",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="otpgate_recovery_codes",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="user",
                    ),
                ),
            ],
            options={
                "verbose_name": "recovery code",
                "verbose_name_plural": "recovery codes",
                "ordering": ("id",),
            },
        ),
        migrations.CreateModel(
            name="TotpDevice",
            fields=[
                ("id", models.BigAutoField(primary_key=True, serialize=False)),
                ("sealed_secret", models.TextField(verbose_name="sealed secret")),
                ("confirmed", models.BooleanField(default=False, verbose_name="confirmed")),
                ("created_ts", models.FloatField(verbose_name="set up at (Unix time)")),
                (
                    "user",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="otpgate_totp",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="user",
                    ),
                ),
            ],
            options={
                "verbose_name": "authenticator app",
                "verbose_name_plural": "authenticator apps",
            },
        ),
        migrations.CreateModel(
            name="VerifiedPhone",
            fields=[
                ("id", models.BigAutoField(primary_key=True, serialize=False)),
                ("e164", models.CharField(max_length=16, verbose_name="phone number")),
                ("created_at", models.DateTimeField(auto_now_add=True, verbose_name="added")),
                (
                    "user",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="otpgate_phones",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="user",
                    ),
                ),
            ],
            options={
                "verbose_name": "verified phone",
                "verbose_name_plural": "verified phones",
                "ordering": ("id",),
                "constraints": [
                    models.UniqueConstraint(
                        fields=("user", "e164"), name="otpgate_unique_user_phone"
                    )
                ],
            },
        ),
    ]
