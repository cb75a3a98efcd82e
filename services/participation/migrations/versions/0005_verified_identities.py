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
    with op.batch_alter_table('citizens', schema=None) as batch_op:
        batch_op.add_column(sa.Column('subject_hash', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('trust_level', sa.String(length=60), nullable=True))
        batch_op.add_column(sa.Column('identity_verified_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_unique_constraint('uq_citizens_subject_hash', ['subject_hash'])


def downgrade() -> None:
    with op.batch_alter_table('citizens', schema=None) as batch_op:
        batch_op.drop_constraint('uq_citizens_subject_hash', type_='unique')
        batch_op.drop_column('identity_verified_at')
        batch_op.drop_column('trust_level')
        batch_op.drop_column('subject_hash')
