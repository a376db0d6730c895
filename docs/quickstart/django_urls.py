from django.http import HttpResponse
from django.urls import include, path
from otpgate.integrations.django import OtpLoginView, confirm_transaction, otp_required
@otp_required(max_age=300)  # a second factor passed in the last 5 minutes
def close_account(request):
    return HttpResponse("Account closed.")
@otp_required  # signed in, second factor passed (anonymous users go to sign in)
def transfer(request):
    # "ref": new for each transfer your form shows (a uuid4); equal details are ONE transaction
    details = {k: request.POST.get(k, "") for k in ("ref", "amount", "payee")}
    summary = f"payment of {details['amount']} EUR to {details['payee']}"  # said in the SMS
    answer = confirm_transaction(request, details, summary=summary)  # POST only: a GET is 405
    if isinstance(answer, HttpResponse):  # the page that asks for the code
        return answer
    return HttpResponse(f"Sent {details['amount']} EUR.")  # the code matched these details
urlpatterns += [
    path("accounts/login/", OtpLoginView.as_view(), name="login"),
    path("account/2fa/", include("otpgate.integrations.django.urls")),
    path("account/close/", close_account),
    path("transfer/", transfer),
]
