"""citizens signed in through an OpenID provider: subject hash, trust level

Revision ID: 0005
Revises: 0004
"""
from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # add_column and a unique index: no copy of the table (SQLite would have to drop
    # `citizens`, which links, comments and ideas refer to)
    op.add_column('citizens', sa.Column('subject_hash', sa.String(length=64), nullable=True))
    op.add_column('citizens', sa.Column('trust_level', sa.String(length=60), nullable=True))
    op.add_column('citizens', sa.Column('identity_verified_at', sa.DateTime(timezone=True), nullable=True))
    op.create_index('uq_citizens_subject_hash', 'citizens', ['subject_hash'], unique=True)


def downgrade() -> None:
    op.drop_index('uq_citizens_subject_hash', table_name='citizens')
    with op.batch_alter_table('citizens', schema=None) as batch_op:
        batch_op.drop_column('identity_verified_at')
        batch_op.drop_column('trust_level')
        batch_op.drop_column('subject_hash')
