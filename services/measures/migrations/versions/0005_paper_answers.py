"""paper answers: the channel of each projected rating and a paper counter per tally

Ratings projected before came online; tallies start with no paper answers.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 15:30:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('rating_projection', schema=None) as batch_op:
        batch_op.add_column(sa.Column('channel', sa.String(length=10), server_default='online', nullable=False))
    with op.batch_alter_table('tallies', schema=None) as batch_op:
        batch_op.add_column(sa.Column('paper_answers', sa.Integer(), server_default='0', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('tallies', schema=None) as batch_op:
        batch_op.drop_column('paper_answers')
    with op.batch_alter_table('rating_projection', schema=None) as batch_op:
        batch_op.drop_column('channel')
