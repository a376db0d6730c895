import os
INSTALLED_APPS += [
    "allauth", "allauth.account", "allauth.socialaccount",  # + your providers
    "otpgate.integrations.django",
]
MIDDLEWARE += [
    "allauth.account.middleware.AccountMiddleware",
    "otpgate.integrations.django.middleware.OtpgateMiddleware",
]
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
ACCOUNT_ADAPTER = "otpgate.integrations.django.allauth.OtpgateAccountAdapter"  # the 2nd step
LOGIN_REDIRECT_URL = "/"
OTPGATE_SECRET_KEYS = [os.environ["OTPGATE_KEY"]]  # `otpgate keygen`; keep it secret
OTPGATE_SENDER = "console"  # prints each SMS; a gateway's sender in production
