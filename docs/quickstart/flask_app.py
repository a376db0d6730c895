import os
from flask import Flask, abort, request
from flask_login import LoginManager, login_required
from otpgate.integrations.flask import OtpGate, confirm_transaction, fresh_otp
app = Flask(__name__)
app.config.update(SECRET_KEY=os.environ["SECRET_KEY"], OTPGATE_BRAND="Acme",  # SMS, app issuer
                  OTPGATE_BASE_TEMPLATE="base.html",  # otpgate's pages inside your layout
                  OTPGATE_SECRET_KEYS=os.environ["OTPGATE_KEY"])  # `otpgate keygen`
LoginManager(app).user_loader(load_user)  # your user loader, as usual with Flask-Login
app.login_manager.login_view = "login"  # signed-out users go to /login, not a 401
gate = OtpGate(app)  # factors in SQLite (instance/otpgate.sqlite3) or OTPGATE_DATABASE_URL

@app.post("/login")
def login():
    user = check_password(request.form["username"], request.form["password"]) or abort(401)
    return gate.begin_login(user, next_url=request.args.get("next"))  # not login_user

@app.post("/account/close")
@login_required
@fresh_otp(max_age=300)  # asks for a code again if the last second factor is older
def close_account():
    return "Account closed."
@app.post("/transfer")
@login_required
def transfer():
    labels = {"ref": "Reference", "amount": "Amount", "payee": "Payee"}  # ref: new per transfer
    details = {k: request.form[k] for k in labels}  # the page names each by its label
    summary = f"payment of {details['amount']} EUR to {details['payee']}"  # SMS: "confirms …"
    confirm_transaction(details, summary=summary, labels=labels)
    return f"Sent {details['amount']} EUR."  # only with the code sent for these details
