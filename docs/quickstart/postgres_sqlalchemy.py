import os
from sqlalchemy import create_engine
from sqlalchemy.ext.asyncio import create_async_engine
from otpgate import AsyncVerifier, Settings, Verifier
from otpgate.sqlalchemy import AsyncSQLAlchemyCredentials, SQLAlchemyCredentials, create_all

url = os.environ["DATABASE_URL"]  # postgresql+psycopg://user:password@host:5432/mysite
settings = Settings(secret_keys=[os.environ["OTPGATE_KEY"]])
engine = create_engine(url, pool_pre_ping=True)  # pip install "psycopg[binary]"
create_all(engine)  # the otpgate_* tables, if missing (or in your Alembic migrations)
gate = Verifier(settings, credentials=SQLAlchemyCredentials(engine))

aengine = create_async_engine(url.replace("+psycopg", "+asyncpg"))  # pip install asyncpg
agate = AsyncVerifier(settings, credentials=AsyncSQLAlchemyCredentials(aengine))
