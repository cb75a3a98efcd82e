"""participation counts per day: new citizens, comments and ideas

Next to the ratings, `daily_participation` counts per town and day the citizens who
confirmed their address, the comments and the ideas of the towns' events. Rows that
existed before start with 0.

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
    with op.batch_alter_table('daily_participation', schema=None) as batch_op:
        batch_op.add_column(sa.Column('citizens', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('comments', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('ideas', sa.Integer(), server_default='0', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('daily_participation', schema=None) as batch_op:
        batch_op.drop_column('ideas')
        batch_op.drop_column('comments')
        batch_op.drop_column('citizens')
