"""otpgate's Django views: the second step, enrollment and management, and the JSON API."""
