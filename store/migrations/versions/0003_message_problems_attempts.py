"""messages.problems and messages.attempts

``problems``: what went wrong or was repaired while storing and processing a message, a list
of ``{"code": str, "text": str}`` (text in Dutch, for the review screen). ``attempts``: how
often processing of the message was started, so a message that keeps failing can be set aside.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27
"""
from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMN on SQLite too: batch mode only copies the table when it must.
    with op.batch_alter_table('messages') as batch_op:
        batch_op.add_column(sa.Column('problems', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('attempts', sa.Integer(), nullable=False, server_default=sa.text('0')))


def downgrade() -> None:
    with op.batch_alter_table('messages') as batch_op:
        batch_op.drop_column('attempts')
        batch_op.drop_column('problems')
