"""IMAP UIDs and UIDVALIDITY as BIGINT

Both are 32-bit *unsigned* in IMAP (up to 4294967295); PostgreSQL's INTEGER stops at
2147483647. (SQLite stores 64 bits either way; its tables are rebuilt only so the
declared types match ``store/schema.py``.)

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26
"""
from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

COLUMNS = {
    "messages": ("uidvalidity", "uid"),
    "mailbox_uids": ("uidvalidity", "uid"),
    "sync_state": ("uidvalidity", "last_uid"),
}


def _alter(old: sa.types.TypeEngine, new: sa.types.TypeEngine) -> None:
    for table, columns in COLUMNS.items():
        with op.batch_alter_table(table) as batch_op:
            for column in columns:
                batch_op.alter_column(column, type_=new, existing_type=old)


def upgrade() -> None:
    _alter(sa.Integer(), sa.BigInteger())


def downgrade() -> None:
    _alter(sa.BigInteger(), sa.Integer())
