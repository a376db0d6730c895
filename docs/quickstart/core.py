from otpgate import OtpgateError, OutboxSender, Settings, Verifier, generate_secret_key

settings = Settings(secret_keys=(generate_secret_key(),), brand="Acme")  # keep the key stable
outbox = OutboxSender()  # ConsoleSender() prints each SMS; a gateway's sender sends it
gate = Verifier(settings, sender=outbox)  # in-memory store and credentials by default

# Verify a phone number once...
challenge = gate.start_sms("user-42", "+33 6 12 34 56 78", purpose="enroll")
gate.check(challenge.id, outbox.last_code_for("+33612345678"), subject="user-42")

# ...then each sign-in sends a code to the verified number.
challenge = gate.start_sms("user-42", client_ip="203.0.113.7")
try:
    gate.check(challenge.id, "000000", subject="user-42")
except OtpgateError as error:  # typed, with a stable .code
    print(error.code)  # invalid_code
verification = gate.check(challenge.id, outbox.last_code_for("+33612345678"), subject="user-42")

# A payment confirmed by a code bound to its details and to what is done with them.
payment = {"amount": "250.00", "currency": "EUR", "payee": "DE89370400440532013000"}
challenge = gate.start_sms("user-42", purpose="transaction", context=payment, action="pay")
code = outbox.last_code_for("+33612345678")
gate.check(challenge.id, code, context=payment, subject="user-42", action="pay")

codes = gate.recovery.generate("user-42")  # shown once; each works once
print(verification.factor, gate.check_recovery("user-42", codes[0]).factor)  # sms recovery
