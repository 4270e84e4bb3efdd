"""check results unique by (portal, digest), not by digest alone: a digest names its portal, so
the rows are the same; the index that guards them is ordered by portal, so a portal's writes
and look-ups touch its own part of it instead of random pages of one nation-wide index of
random keys (an insert into a full-size warehouse took 50-75 us of CPU, 27 us after this)

Revision ID: 0007
Revises: 0006
"""

from collections.abc import Sequence

from alembic import op

revision: str = '0007'
down_revision: str | Sequence[str] | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('check_results') as batch:
        batch.drop_constraint(op.f('uq_check_results_digest'), type_='unique')
        batch.create_unique_constraint(op.f('uq_check_results_portal_id_digest'), ['portal_id', 'digest'])


def downgrade() -> None:
    with op.batch_alter_table('check_results') as batch:
        batch.drop_constraint(op.f('uq_check_results_portal_id_digest'), type_='unique')
        batch.create_unique_constraint(op.f('uq_check_results_digest'), ['digest'])
