"""``python -m otpgate``: small command-line helpers."""

from __future__ import annotations

from otpgate.cli import main

raise SystemExit(main())
