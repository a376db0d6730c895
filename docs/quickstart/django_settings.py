import os
INSTALLED_APPS += ["otpgate.integrations.django"]
MIDDLEWARE += ["otpgate.integrations.django.middleware.OtpgateMiddleware"]  # after auth's
OTPGATE_SECRET_KEYS = [os.environ["OTPGATE_KEY"]]  # `otpgate keygen`; keep it secret
OTPGATE_STORE = "memory"  # one process; "redis://localhost:6379/0" for several
OTPGATE_SENDER = "console"  # prints each SMS; a dotted path to a gateway's sender in production
OTPGATE_REQUIRED = "staff"  # who must set up a factor: "all", "staff", "groups:a,b", "optional"
OTPGATE_BRAND = "Acme"  # names you in the SMS text and is the issuer in authenticator apps
OTPGATE_BASE_TEMPLATE = "base.html"  # otpgate's pages inside your layout (blocks: see below)
