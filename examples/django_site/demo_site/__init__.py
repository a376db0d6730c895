"""otpgate's example Django site."""
