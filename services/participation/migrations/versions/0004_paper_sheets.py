"""paper questionnaires: the channel of each rating and the sheets entered by staff

Ratings stored before came online.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 15:40:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('ratings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('channel', sa.String(length=10), server_default='online', nullable=False))
    op.create_table('paper_sheets',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('consultation_id', sa.String(length=36), nullable=False),
    sa.Column('sheet_number', sa.Integer(), nullable=False),
    sa.Column('entered_by', sa.String(length=200), nullable=False),
    sa.Column('entered_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('corrected_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('demo', sa.Boolean(), server_default='0', nullable=False),
    sa.ForeignKeyConstraint(['consultation_id'], ['consultations.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('consultation_id', 'sheet_number', name='uq_sheet_number')
    )


def downgrade() -> None:
    op.drop_table('paper_sheets')
    with op.batch_alter_table('ratings', schema=None) as batch_op:
        batch_op.drop_column('channel')
