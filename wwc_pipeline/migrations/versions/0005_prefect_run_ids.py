"""prefect run ids: the Prefect flow run behind each warehouse run, the task runs behind each
portal's snapshot (harvest, evaluate, write), so a run in the warehouse can be found in Prefect
and the other way round

Revision ID: 0005
Revises: 0003_score_thresholds (0004_score_thresholds.py)
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

JSON = sa.JSON().with_variant(postgresql.JSONB(), 'postgresql')

revision: str = '0005'
down_revision: str | Sequence[str] | None = '0003_score_thresholds'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('runs') as batch:
        batch.add_column(sa.Column('prefect_flow_run_id', sa.String(length=64), nullable=True))
    with op.batch_alter_table('snapshots') as batch:
        batch.add_column(sa.Column('prefect_task_runs', JSON, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('snapshots') as batch:
        batch.drop_column('prefect_task_runs')
    with op.batch_alter_table('runs') as batch:
        batch.drop_column('prefect_flow_run_id')
