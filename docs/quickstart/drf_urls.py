from django.urls import include, path
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView
from otpgate.integrations.django.drf import FreshSecondFactor, confirm_transaction

class Export(APIView):  # a second factor passed in the last 5 minutes (session or token)
    permission_classes = [IsAuthenticated, FreshSecondFactor(max_age=300)]
    def get(self, request):
        return Response({"export": "ready"})

class Transfer(APIView):  # runs once a code confirmed exactly these details
    permission_classes = [IsAuthenticated]
    @confirm_transaction(lambda request: {"amount": str(request.data.get("amount", ""))})
    def post(self, request):
        return Response({"sent": request.otpgate_transaction.details["amount"]})

urlpatterns += [
    path("api/2fa/", include("otpgate.integrations.django.drf.urls")),  # factors, start, verify
    path("api/export/", Export.as_view()),
    path("api/transfer/", Transfer.as_view()),
]
