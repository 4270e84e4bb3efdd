"""score thresholds: each criterion score keeps the rules it was judged by

criterion_scores gain `thresholds` (JSON): met, partial, min_datasets, met_requires_pass, the
criterion kind, its metric weights and found_credit, as config/criteria.yaml said when the run
was scored, so an old run's report shows the cut-offs of its own day. Rows scored before this
migration keep NULL: their thresholds were never recorded, and are not guessed.

Revision ID: 0003_score_thresholds
Revises: 0003 (history)
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

JSON = sa.JSON().with_variant(postgresql.JSONB(), 'postgresql')

revision: str = '0003_score_thresholds'
down_revision: str | Sequence[str] | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('criterion_scores') as batch:
        batch.add_column(sa.Column('thresholds', JSON, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('criterion_scores') as batch:
        batch.drop_column('thresholds')
