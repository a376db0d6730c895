"""Settings of the example site: otpgate's demo site (``src/otpgate/demo/django_site/``,
shipped in the package so that ``otpgate demo`` runs it from any install), with its database
beside this folder. SQLite, in-memory otpgate store, SMS printed in the terminal.

Never deploy these (DEBUG, the development server). The keys come from the environment
(DEMO_SECRET_KEY, DEMO_OTPGATE_KEY), else are made at random: otpgate's is kept in
``db.sqlite3.key`` beside the database. In production read SECRET_KEY and
OTPGATE_SECRET_KEYS from the environment, and use OTPGATE_STORE = "redis://...".
"""

from __future__ import annotations

import os
from pathlib import Path

os.environ.setdefault("DEMO_DATABASE", str(Path(__file__).resolve().parent.parent / "db.sqlite3"))

from otpgate.demo.django_site.settings import *  # noqa: F403
