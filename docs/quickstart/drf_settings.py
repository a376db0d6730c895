INSTALLED_APPS += ["rest_framework", "rest_framework.authtoken"]
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [  # browser sessions and API tokens alike
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.TokenAuthentication"],
    "EXCEPTION_HANDLER": "otpgate.integrations.django.drf.exception_handler",  # problem+json
}
