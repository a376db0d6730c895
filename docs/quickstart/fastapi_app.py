from fastapi import Depends, FastAPI, Header
from otpgate import LoginRequired, Verification
from otpgate.integrations.fastapi import OtpGate, VerifiedTransaction

async def user_id(authorization: str = Header("")) -> str:
    user = await find_user_by_token(authorization.removeprefix("Bearer "))  # yours
    if user is None:
        raise LoginRequired()  # 401 problem+json
    return user.id

gate = OtpGate.from_env(current_subject=user_id)  # OTPGATE_SECRET_KEYS, _BRAND, _STORE, ...
app = FastAPI(lifespan=gate.lifespan)
gate.install(app)  # the /otpgate API; otpgate's errors as RFC 9457 problems

async def payment_details(payment_id: str) -> dict:  # what the code confirms
    p = await load_payment(payment_id)  # yours
    return {"payment": p.id, "amount": p.amount, "currency": p.currency, "payee": p.iban}

confirm = gate.require_transaction(  # SMS: "code 123456 confirms payment of 250.00 EUR to DE89…"
    payment_details, summary=lambda d: f"payment of {d['amount']} {d['currency']} to {d['payee']}")

@app.post("/payments/{payment_id}/execute", responses=gate.transaction_responses)
async def execute(payment_id: str, tx: VerifiedTransaction = Depends(confirm)):
    return {"executed": payment_id}  # once, with the code sent for this payment

@app.delete("/account", responses=gate.step_up_responses)
@gate.otp_required(max_age=300)  # UNDER the route decorator (or gate.require_second_factor)
async def close(proof: Verification):  # what passed; the user is the gate's current_subject
    return {"closed": proof.subject}
