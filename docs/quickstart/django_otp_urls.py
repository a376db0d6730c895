from django_otp.admin import OTPAdminSite  # django-otp's apps work unchanged

urlpatterns += [path("otp-admin/", OTPAdminSite(name="otpadmin").urls)]
