"""town senders, link expiry and the source of consent

A delivery names its sender (a town's participation, or NULL for the region) and
may expire (sign-in and confirmation links are never sent after their link has
expired). A subscription records where its consent came from when it was not a
double opt-in of its own (a citizen who rated a measure with a confirmed
registration).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25 10:00:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sender_name', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True))

    with op.batch_alter_table('subscriptions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('consent_source', sa.String(length=300), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('subscriptions', schema=None) as batch_op:
        batch_op.drop_column('consent_source')

    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.drop_column('expires_at')
        batch_op.drop_column('sender_name')
