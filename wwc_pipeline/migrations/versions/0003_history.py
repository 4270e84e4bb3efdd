"""history: runs of kind `backfill`, dataset renames, runs indexed by (city, as-of)

Revision ID: 0003
Revises: 0002
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')

revision: str = '0003'
down_revision: str | Sequence[str] | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KINDS_0002 = "kind IN ('nightly', 'rescan', 'demo', 'evaluate')"
KINDS_0003 = "kind IN ('nightly', 'rescan', 'demo', 'evaluate', 'backfill')"


def _kinds(allowed: str) -> None:
    with op.batch_alter_table('runs') as batch:
        batch.drop_constraint(op.f('ck_runs_kind'), type_='check')
        batch.create_check_constraint(op.f('ck_runs_kind'), allowed)


def upgrade() -> None:
    _kinds(KINDS_0003)
    op.create_index('ix_runs_city_id_as_of', 'runs', ['city_id', 'as_of'], unique=False)
    op.create_table(
        'dataset_renames',
        sa.Column('id', BIG_ID, nullable=False),
        sa.Column('portal_id', sa.Integer(), nullable=False),
        sa.Column('run_id', sa.Integer(), nullable=False),
        sa.Column('dataset_id', BIG_ID, nullable=False),
        sa.Column('from_dataset_id', BIG_ID, nullable=True),
        sa.Column('old_identifier', sa.Text(), nullable=False),
        sa.Column('new_identifier', sa.Text(), nullable=False),
        sa.Column('rule', sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(['dataset_id'], ['datasets.id'],
                                name=op.f('fk_dataset_renames_dataset_id_datasets'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['from_dataset_id'], ['datasets.id'],
                                name=op.f('fk_dataset_renames_from_dataset_id_datasets'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['portal_id'], ['portals.id'],
                                name=op.f('fk_dataset_renames_portal_id_portals'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['run_id'], ['runs.id'],
                                name=op.f('fk_dataset_renames_run_id_runs'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_dataset_renames')),
    )
    op.create_index('ix_dataset_renames_portal_id_run_id', 'dataset_renames', ['portal_id', 'run_id'])
    op.create_index(op.f('ix_dataset_renames_dataset_id'), 'dataset_renames', ['dataset_id'])


def downgrade() -> None:
    op.drop_table('dataset_renames')
    op.drop_index('ix_runs_city_id_as_of', table_name='runs')
    op.execute("DELETE FROM runs WHERE kind = 'backfill'")
    _kinds(KINDS_0002)
