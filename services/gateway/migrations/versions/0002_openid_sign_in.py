"""staff accounts from an OpenID provider; sign-ins under way at a provider

Revision ID: 0002
Revises: 0001
"""
from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # add_column and a unique index: no copy of the table (SQLite would have to drop
    # `staff_accounts`, which the sessions refer to)
    op.add_column('staff_accounts', sa.Column('provider', sa.String(length=40), nullable=True))
    op.add_column('staff_accounts', sa.Column('subject', sa.String(length=255), nullable=True))
    op.create_index('uq_staff_accounts_provider_subject', 'staff_accounts', ['provider', 'subject'],
                    unique=True)
    op.create_table('oidc_pending',
    sa.Column('state_hash', sa.String(length=64), nullable=False),
    sa.Column('provider', sa.String(length=40), nullable=False),
    sa.Column('town', sa.String(length=40), nullable=True),
    sa.Column('nonce', sa.String(length=100), nullable=False),
    sa.Column('code_verifier', sa.String(length=200), nullable=False),
    sa.Column('next_url', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('state_hash')
    )
    with op.batch_alter_table('oidc_pending', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_oidc_pending_expires_at'), ['expires_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('oidc_pending', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_oidc_pending_expires_at'))
    op.drop_table('oidc_pending')
    op.drop_index('uq_staff_accounts_provider_subject', table_name='staff_accounts')
    with op.batch_alter_table('staff_accounts', schema=None) as batch_op:
        batch_op.drop_column('subject')
        batch_op.drop_column('provider')
