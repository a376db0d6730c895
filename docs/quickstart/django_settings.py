import os
INSTALLED_APPS += ["otpgate.integrations.django"]
MIDDLEWARE += ["otpgate.integrations.django.middleware.OtpgateMiddleware"]  # after auth's
OTPGATE_SECRET_KEYS = [os.environ["OTPGATE_KEY"]]  # `otpgate keygen`; keep it secret
OTPGATE_STORE = "memory"  # one process; "redis://localhost:6379/0" for several
OTPGATE_SENDER = "console"  # prints each SMS; a dotted path to a gateway's sender in production
OTPGATE_REQUIRED = "staff"  # who must set up a factor: "all", "staff", "groups:a,b", "optional"
OTPGATE_REMEMBER_DEVICE = True  # offer "Don't ask again on this device for 30 days"
