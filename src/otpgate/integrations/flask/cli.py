"""``flask otpgate``: look at and reset a user's second factors (for support staff)."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from otpgate.check.pumping import describe

from .extension import gate_state

otpgate_cli = AppGroup(
    "otpgate", help="Show or reset users' second factors; list or lift SMS pumping blocks."
)


@otpgate_cli.command("show")
@click.argument("subject")
def show(subject: str) -> None:
    """Show SUBJECT's factors (numbers masked)."""
    factors = gate_state().verifier.factors(subject)
    phones = ", ".join(factors.masked_phones) or "none"
    click.echo(f"user:            {subject}")
    click.echo(f"phone numbers:   {phones}")
    click.echo(f"authenticator:   {'yes' if factors.totp else 'no'}")
    click.echo(f"recovery codes:  {factors.recovery_codes_left} left")


@otpgate_cli.command("reset")
@click.argument("subject")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def reset(subject: str, yes: bool) -> None:
    """Remove every factor of SUBJECT and lift any lockout (after verifying the user)."""
    if not yes:
        click.confirm(f"Remove every second factor of {subject}?", abort=True)
    gate_state().verifier.reset(subject)  # each removal sends factor_removed
    click.echo(f"{subject}: second factors removed, lockout lifted.")


@otpgate_cli.command("unlock")
@click.argument("subject")
def unlock(subject: str) -> None:
    """Lift SUBJECT's lockout after too many failed codes."""
    gate_state().verifier.unlock(subject)
    click.echo(f"{subject}: lockout lifted.")


@otpgate_cli.command("pumping")
def pumping() -> None:
    """List the number ranges the SMS pumping guard blocks."""
    verifier = gate_state().verifier
    now = verifier.clock()
    blocks = sorted(verifier.pumping_blocks(), key=lambda b: b.label)
    for block in blocks:
        click.echo(describe(block, now))
    if not blocks:
        click.echo("No range is blocked.")


@otpgate_cli.command("lift-pumping")
@click.argument("prefix")
def lift_pumping(prefix: str) -> None:
    """Lift the SMS pumping block of PREFIX ('+44 7700', or a country: '+44')."""
    try:
        lifted = gate_state().verifier.lift_pumping_block(prefix)
    except ValueError as error:
        raise click.BadParameter(str(error)) from None
    if not lifted:
        raise click.ClickException(f"{prefix} was not blocked.")
    click.echo(f"Lifted the block of {prefix}; its counts start afresh.")
