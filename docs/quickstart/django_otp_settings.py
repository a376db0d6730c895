INSTALLED_APPS += ["django_otp", "django_otp.plugins.otp_totp", "django_otp.plugins.otp_static"]
# Keeping django-otp's middleware? It goes before otpgate's (`manage.py check`: otpgate.E020).
OURS = MIDDLEWARE.index("otpgate.integrations.django.middleware.OtpgateMiddleware")
MIDDLEWARE.insert(OURS, "django_otp.middleware.OTPMiddleware")
