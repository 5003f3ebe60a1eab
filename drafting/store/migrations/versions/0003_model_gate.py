"""The model queue moves into the database, so that every host of an office or federation
server (page, API workers, CLI) respects one queue; it was a SQLite file per host.

Revision ID: 0003
Revises: 0002
"""
import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "gate_places",
        sa.Column("id", ID, primary_key=True, autoincrement=True),
        sa.Column("host", sa.Text(), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("queued", sa.Float(), nullable=False),
        sa.Column("granted", sa.Float()),
        sa.Column("reserved_until", sa.Float()),
        sa.Column("heartbeat", sa.Float(), nullable=False),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "gate_measures",
        sa.Column("name", sa.Text(), primary_key=True),
        sa.Column("value", sa.Float(), nullable=False),
    )
