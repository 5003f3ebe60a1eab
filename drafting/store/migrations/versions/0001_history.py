"""The history and the autosave, as the first releases made them by hand.

A file from those releases is adopted as it is: its tables are kept and the columns added since
("status", "error", "request_id", "owner") are added with the values old rows need.

Revision ID: 0001
Revises:
"""
import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")  # SQLite's rowid alias must be INTEGER


def added() -> list[sa.Column]:
    """The columns added to `drafts` after the first release."""
    return [
        sa.Column("status", sa.Text(), nullable=False, server_default="done"),
        sa.Column("error", sa.Text(), nullable=False, server_default=""),
        sa.Column("request_id", sa.Text(), nullable=False, server_default=""),
        sa.Column("owner", sa.Text(), nullable=False, server_default=""),  # host:pid drafting an unfinished row
    ]


def upgrade() -> None:
    inspector = sa.inspect(op.get_bind())
    if not inspector.has_table("drafts"):
        op.create_table(
            "drafts",
            sa.Column("id", ID, primary_key=True, autoincrement=True),
            sa.Column("created_at", sa.Text(), nullable=False),
            sa.Column("parent_id", ID, sa.ForeignKey("drafts.id", ondelete="SET NULL")),
            sa.Column("kind", sa.Text(), nullable=False),
            sa.Column("title", sa.Text(), nullable=False),
            sa.Column("text", sa.Text(), nullable=False),
            sa.Column("facts_text", sa.Text(), nullable=False),
            sa.Column("request", sa.Text(), nullable=False),
            sa.Column("result", sa.Text(), nullable=False),
            sa.Column("check_report", sa.Text(), nullable=False),
            sa.Column("ok", sa.Integer(), nullable=False),
            sa.Column("unsupported", sa.Integer(), nullable=False),
            sa.Column("missing", sa.Integer(), nullable=False),
            *added(),
            sqlite_autoincrement=True,
        )
        op.create_index("drafts_created", "drafts", ["created_at"])
    else:
        present = {column["name"] for column in inspector.get_columns("drafts")}
        for column in added():
            if column.name not in present:
                op.add_column("drafts", column)
    if not inspector.has_table("inputs"):
        op.create_table(
            "inputs",
            sa.Column("key", sa.Text(), primary_key=True),
            sa.Column("data", sa.Text(), nullable=False),
            sa.Column("updated_at", sa.Text(), nullable=False),
        )
