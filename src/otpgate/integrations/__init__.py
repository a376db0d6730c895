"""Integrations of otpgate with web frameworks (each needs its own extra installed)."""
