"""an address can stop the mails about its own doing at a town

Reply and idea mails carry a one-click unsubscribe (RFC 8058) like every mail that
is not a link the person asked for; following it records when the address stopped
them, and no further such mail is queued for it.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 16:00:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('recipients', schema=None) as batch_op:
        batch_op.add_column(sa.Column('personal_mails_stopped_at', sa.DateTime(timezone=True),
                                      nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('recipients', schema=None) as batch_op:
        batch_op.drop_column('personal_mails_stopped_at')
