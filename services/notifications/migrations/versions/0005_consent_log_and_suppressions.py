"""the consent log and the suppressions of erased addresses

Every consent given or withdrawn is recorded with time, channel and text version;
what an erased address leaves behind (it unsubscribed, it bounces) is kept by keyed
hash only.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 16:00:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'consents',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('email', sa.String(length=320), nullable=False),
        sa.Column('subscription_id', sa.String(length=36), nullable=True),
        sa.Column('purpose', sa.String(length=200), nullable=False),
        sa.Column('action', sa.String(length=20), nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('channel', sa.String(length=40), nullable=False),
        sa.Column('text_version', sa.String(length=120), nullable=False),
        sa.Column('source', sa.String(length=300), nullable=True),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_consents_email', 'consents', ['email'])
    op.create_table(
        'address_suppressions',
        sa.Column('address_hash', sa.String(length=80), nullable=False),
        sa.Column('reason', sa.String(length=20), nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('address_hash'),
    )


def downgrade() -> None:
    op.drop_table('address_suppressions')
    op.drop_index('ix_consents_email', table_name='consents')
    op.drop_table('consents')
