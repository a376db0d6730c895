import os
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",  # pip install "psycopg[binary]"
        "NAME": os.environ.get("PGDATABASE", "mysite"),
        "USER": os.environ.get("PGUSER", "mysite"),
        "PASSWORD": os.environ.get("PGPASSWORD", ""),
        "HOST": os.environ.get("PGHOST", "localhost"),
        "PORT": os.environ.get("PGPORT", "5432"),
        "CONN_MAX_AGE": 60,  # keep connections across requests
    }
}
