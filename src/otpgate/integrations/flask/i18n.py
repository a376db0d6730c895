"""The Flask pages' text comes from the ``otpgate`` gettext domain (see
:mod:`otpgate.core.i18n`): ``otpgate/locale/<lang>/LC_MESSAGES/otpgate.mo``, read with the
standard library, so no Flask-Babel is needed. Templates call ``_`` with the English text
and ``{name}`` placeholders; views call :func:`otpgate.integrations.flask.web.translate`.

A site adds or rewords a language with its own ``otpgate.po/.mo`` catalogues in a directory
listed in ``OTPGATE_TRANSLATION_DIRS`` (the same files Flask-Babel/Babel tools produce), and
lists the language in ``OTPGATE_LANGUAGES``; ``otpgate.core.i18n.register`` overrides a few
strings from code.
"""

from __future__ import annotations

from otpgate.core.i18n import SHIPPED, add_locale_dir, register

__all__ = ["SHIPPED", "add_locale_dir", "register"]
