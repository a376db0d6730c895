"""``otpgate demo``: otpgate's three user stories, ready to try.

- :mod:`otpgate.demo.launcher` (``otpgate demo``) serves the demo sites and the dev SMS inbox
  side by side on loopback: login with a second factor (:mod:`~otpgate.demo.django_site`), a
  step-up before a transfer (:mod:`~otpgate.demo.flask_bank`) and a payment confirmed through
  an API (:mod:`~otpgate.demo.payments`).
- :mod:`otpgate.demo.terminal` (``otpgate demo --terminal``) walks through the core in a
  terminal, with no web framework.

Importing this package imports no web framework; each site imports its own when it runs.
"""

from __future__ import annotations
