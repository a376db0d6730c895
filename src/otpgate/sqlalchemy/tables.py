"""Table definitions: verified phones and email addresses, authenticator secrets (sealed),
recovery code digests, each subject's preferred factor, remembered devices (keyed digests
only) and passkeys (public keys and counters: nothing secret).

Nothing secret is stored in clear: ``sealed_secret`` is AES-GCM ciphertext made by the core's
keyring, and recovery codes are keyed digests. Times are UNIX seconds (double precision),
the same floats the core works with.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Double,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

SUBJECT_LENGTH = 255
E164_LENGTH = 16
DIGEST_LENGTH = 128
FACTOR_NAME_LENGTH = 32
REF_LENGTH = 16
LABEL_LENGTH = 64
PLACE_LENGTH = 64
EMAIL_LENGTH = 254
#: base64url of WebAuthn's longest credential id (1023 bytes).
CREDENTIAL_ID_LENGTH = 1366
PASSKEY_NAME_LENGTH = 64
TRANSPORTS_LENGTH = 128


@dataclass(frozen=True)
class Tables:
    """The tables of one :class:`~sqlalchemy.MetaData`."""

    phones: Table
    totp: Table
    recovery_codes: Table
    #: One row per subject who chose a preferred factor (added in 0.1; ``create_all``
    #: adds it to an existing database, leaving the other tables as they are).
    preferences: Table
    #: Remembered devices ("don't ask again on this device"), added like ``preferences``.
    devices: Table
    #: Verified email addresses (added with the ``email`` factor; ``create_all`` adds it).
    emails: Table
    #: One row per passkey (added with passkeys; ``create_all`` adds it likewise).
    passkeys: Table

    @property
    def all(self) -> list[Table]:
        """Every table, in creation order."""
        return [
            self.phones,
            self.totp,
            self.recovery_codes,
            self.preferences,
            self.devices,
            self.emails,
            self.passkeys,
        ]


def define_tables(target: MetaData, prefix: str = "otpgate_") -> Tables:
    """Define otpgate's tables in ``target`` (your application's metadata), named
    ``<prefix>phone``, ``<prefix>totp``, ``<prefix>recovery_code``, ``<prefix>preference``
    ``<prefix>device``, ``<prefix>email`` and ``<prefix>passkey``."""
    phones = Table(
        f"{prefix}phone",
        target,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("subject", String(SUBJECT_LENGTH), nullable=False),
        Column("e164", String(E164_LENGTH), nullable=False),
        Column("created_at", Double, nullable=False),
        UniqueConstraint("subject", "e164", name=f"{prefix}phone_subject_e164"),
    )
    totp = Table(
        f"{prefix}totp",
        target,
        Column("subject", String(SUBJECT_LENGTH), primary_key=True),
        Column("sealed_secret", Text, nullable=False),
        Column("confirmed", Boolean, nullable=False, default=False),
        Column("created_at", Double, nullable=False),
    )
    recovery = Table(
        f"{prefix}recovery_code",
        target,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("subject", String(SUBJECT_LENGTH), nullable=False),
        Column("digest", String(DIGEST_LENGTH), nullable=False),
        Column("created_at", Double, nullable=False),
        Column("used_at", Double, nullable=True),
        Index(f"{prefix}recovery_code_subject_digest", "subject", "digest"),
    )
    preferences = Table(
        f"{prefix}preference",
        target,
        Column("subject", String(SUBJECT_LENGTH), primary_key=True),
        Column("factor", String(FACTOR_NAME_LENGTH), nullable=False),
        Column("updated_at", Double, nullable=False),
    )
    devices = Table(
        f"{prefix}device",
        target,
        Column("ref", String(REF_LENGTH), primary_key=True),
        Column("subject", String(SUBJECT_LENGTH), nullable=False, index=True),
        Column("digest", String(DIGEST_LENGTH), nullable=False),
        Column("binding", String(DIGEST_LENGTH), nullable=False),
        Column("label", String(LABEL_LENGTH), nullable=False, default=""),
        Column("place", String(PLACE_LENGTH), nullable=False, default=""),
        Column("created_at", Double, nullable=False),
        Column("last_seen", Double, nullable=False),
        Column("expires_at", Double, nullable=False),
    )
    emails = Table(
        f"{prefix}email",
        target,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("subject", String(SUBJECT_LENGTH), nullable=False),
        Column("address", String(EMAIL_LENGTH), nullable=False),
        Column("created_at", Double, nullable=False),
        UniqueConstraint("subject", "address", name=f"{prefix}email_subject_address"),
    )
    passkeys = Table(
        f"{prefix}passkey",
        target,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("subject", String(SUBJECT_LENGTH), nullable=False, index=True),
        # unique across subjects: a passwordless sign-in would find the subject by it
        Column("credential_id", String(CREDENTIAL_ID_LENGTH), nullable=False, unique=True),
        Column("public_key", LargeBinary, nullable=False),
        Column("sign_count", BigInteger, nullable=False, default=0),
        Column("name", String(PASSKEY_NAME_LENGTH), nullable=False),
        Column("transports", String(TRANSPORTS_LENGTH), nullable=False, default=""),
        Column("backup_eligible", Boolean, nullable=False, default=False),
        Column("backup_state", Boolean, nullable=False, default=False),
        Column("created_at", Double, nullable=False),
        Column("last_used_at", Double, nullable=True),
    )
    return Tables(
        phones=phones,
        totp=totp,
        recovery_codes=recovery,
        preferences=preferences,
        devices=devices,
        emails=emails,
        passkeys=passkeys,
    )


#: otpgate's own metadata, for apps that do not merge the tables into theirs.
metadata = MetaData()
#: The tables in :data:`metadata`; the default of both credential classes.
tables = define_tables(metadata)
