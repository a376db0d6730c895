"""The template otpgate's pages render inside: ``OTPGATE_BASE_TEMPLATE``.

Every otpgate page extends ``otpgate/page.html``, which extends the template this setting
names (default ``otpgate/base.html``, otpgate's standalone page). A site's own base template
takes its place when it provides the blocks in :data:`REQUIRED_BLOCKS`:

``title``       inside ``<title>``: otpgate puts the page's title there
``extra_head``  inside ``<head>``: otpgate adds its (scoped) stylesheet and two meta tags
``content``     inside ``<body>``: otpgate puts its card there (in a ``<div class="otpgate">``;
                the site's layout keeps its own ``<main>``, navigation and sign-out link)

:func:`check_base_template` (system check ``otpgate.E009``) reports a missing template or a
missing block before the first request; :func:`check_recovery_template` (``otpgate.W008``) a
copy of ``otpgate/recovery.html`` whose "make new codes" form has no one-time token.
"""

from __future__ import annotations

import re
from typing import Any

from django.conf import settings as django_settings
from django.core import checks
from django.template import Context, TemplateDoesNotExist, TemplateSyntaxError
from django.template.loader import get_template
from django.template.loader_tags import BlockNode, ExtendsNode

#: The setting, and its default: otpgate's standalone layout.
SETTING = "OTPGATE_BASE_TEMPLATE"
DEFAULT = "otpgate/base.html"
#: The blocks a base template must provide (otpgate/page.html fills them).
REQUIRED_BLOCKS = ("title", "extra_head", "content")


def base_template() -> str:
    """The template otpgate's pages extend (``OTPGATE_BASE_TEMPLATE``)."""
    value = getattr(django_settings, SETTING, None)
    return str(value) if value else DEFAULT


def context() -> dict[str, Any]:
    """What every otpgate page's context carries: ``otpgate_base``, the template to extend."""
    return {"otpgate_base": base_template()}


def _blocks(template: Any, depth: int = 0) -> set[str]:
    """Names of the blocks ``template`` (a Django engine's template) and its parents define;
    a parent named by a variable cannot be followed, so its blocks are not counted."""
    inner = getattr(template, "template", template)
    nodelist = getattr(inner, "nodelist", None)
    if nodelist is None:
        return set()
    names = {node.name for node in nodelist.get_nodes_by_type(BlockNode)}
    for extends in nodelist.get_nodes_by_type(ExtendsNode):
        parent = extends.parent_name.resolve(Context())
        if isinstance(parent, str) and parent and depth < 10:
            names |= _blocks(get_template(parent), depth + 1)
    return names


def check_base_template(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """``otpgate.E009``: ``OTPGATE_BASE_TEMPLATE`` cannot be loaded, or lacks a block that
    otpgate's pages fill (then the page would render without its title, style or card)."""
    name = base_template()
    hint = (
        f"{SETTING} names the template otpgate's pages extend. It must exist and define the "
        f"blocks {', '.join(REQUIRED_BLOCKS)}: title inside <title>, extra_head inside "
        "<head>, content inside <body>. A base template with other block names can be "
        "adapted by a small template that extends it and nests the three blocks in its own "
        "(see the Django guide, 'Your site's layout'). Remove the setting for otpgate's "
        "standalone layout."
    )
    try:
        template = get_template(name)
    except TemplateDoesNotExist:
        return [
            checks.Error(f"{SETTING} = {name!r}: no such template.", hint=hint, id="otpgate.E009")
        ]
    except TemplateSyntaxError as error:
        return [
            checks.Error(
                f"{SETTING} = {name!r} does not compile: {error}", hint=hint, id="otpgate.E009"
            )
        ]
    if getattr(getattr(template, "template", None), "nodelist", None) is None:
        return []  # another template engine (Jinja2): its blocks cannot be read here
    missing = [block for block in REQUIRED_BLOCKS if block not in _blocks(template)]
    if not missing:
        return []
    return [
        checks.Error(
            f"{SETTING} = {name!r} lacks the block(s) {', '.join(missing)} that otpgate's "
            "pages fill.",
            hint=hint,
            id="otpgate.E009",
        )
    ]


#: The recovery-codes page, and its form's one-time token field (``core.form_once.FIELD``).
RECOVERY_TEMPLATE = "otpgate/recovery.html"
_ONCE_FIELD = re.compile(r"""name\s*=\s*["']?once\b""")


def check_recovery_template(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """``otpgate.W008``: the ``otpgate/recovery.html`` the site's templates load (a copy from
    an older version) has no ``once`` field: its "Make new recovery codes" form would never
    make codes (a POST without the one-time token is refused as out of date)."""
    try:
        template = get_template(RECOVERY_TEMPLATE)
    except (TemplateDoesNotExist, TemplateSyntaxError):
        return []  # Django's own checks and the first request report it
    source = getattr(getattr(template, "template", None), "source", None)
    if not isinstance(source, str) or _ONCE_FIELD.search(source):
        return []
    return [
        checks.Warning(
            f"{RECOVERY_TEMPLATE} (your copy) has no one-time token: its form will make no "
            "new recovery codes.",
            hint='Add <input type="hidden" name="once" value="{{ once }}"> inside the form '
            'whose button sends action "generate" (see otpgate\'s own recovery.html and the '
            "upgrade notes), or remove your copy.",
            id="otpgate.W008",
        )
    ]
