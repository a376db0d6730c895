from django.urls import include, path

urlpatterns += [
    path("accounts/", include("allauth.urls")),  # allauth's sign-in, sign-up, social accounts
    path("account/2fa/", include("otpgate.integrations.django.urls")),  # the 2nd step, factors
]
