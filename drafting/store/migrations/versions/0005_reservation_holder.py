"""A reserved turn in the model queue belongs to whoever was refused: only the same caller (the
same user's key, or the admin key) can claim it with its token.

Revision ID: 0005
Revises: 0004
"""
import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("gate_places") as batch:
        batch.add_column(sa.Column("holder", sa.Text(), nullable=False, server_default=""))
