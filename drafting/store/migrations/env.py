"""Alembic's environment: migrations run on the connection that `database._migrate` opened and
locked (there is no alembic.ini; the URL comes from the project's configuration)."""
from alembic import context

connection = context.config.attributes["connection"]
context.configure(connection=connection, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
