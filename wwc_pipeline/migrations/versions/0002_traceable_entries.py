"""traceable entries: every catalog entry a row, content-addressed entry lists, check results and
result sets, relational score -> check links, snapshot warnings status, run liveness

Carries a 0001 warehouse over with its data:
- datasets gain `occurrence` (existing rows are occurrence 1; identity is portal, id, occurrence);
- each complete snapshot's `snapshot_datasets` rows become its entry list (`entry_lists` +
  `snapshot_entries`, positions kept), equal lists stored once;
- each check result is re-pointed from (run, dataset) to the dataset version its snapshot
  listed, stored once per distinct content (`digest`), and the snapshot's results become its
  result sets, one per check (`result_sets` + `result_set_members`, linked by
  `snapshot_result_sets`), equal sets stored once. A 0001 result about a dataset its own
  snapshot did not list (the write guard of 0001 let those through) has no entry to judge and
  is not carried over; the count is logged;
- criterion_scores.check_ids become `criterion_score_checks` rows (the JSON list stays);
- runs gain host, pid, process_started_at, heartbeat_at; snapshots accept
  `complete_with_warnings`.
The digest formulas are a frozen copy of wwc_pipeline/warehouse/digests.py.

Revision ID: 0002
Revises: 0001
"""

import hashlib
import json
import logging
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

JSON = sa.JSON().with_variant(postgresql.JSONB(), 'postgresql')
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
UTC_TIME = sa.DateTime(timezone=True)

revision: str = '0002'
down_revision: str | Sequence[str] | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

log = logging.getLogger("alembic.runtime.migration")
CHUNK = 2000


# -- frozen copies of the digest formulas (wwc_pipeline/warehouse/digests.py) -------------------
def _canonical(value):
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _sha256(text):
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _check_result_digest(portal_id, version_id, check_id, status, value, reason):
    return _sha256(_canonical([portal_id, version_id, check_id, status, value, reason]))


def _result_set_digest(member_digests):
    return _sha256("\n".join(sorted(set(member_digests))))


def _entry_list_digest(entries):
    return _sha256(_canonical([[p, d, v, list(f)] for p, d, v, f in entries]))


def upgrade() -> None:
    bind = op.get_bind()
    with op.batch_alter_table('runs') as batch:
        batch.add_column(sa.Column('host', sa.String(length=255), nullable=True))
        batch.add_column(sa.Column('pid', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('process_started_at', UTC_TIME, nullable=True))
        batch.add_column(sa.Column('heartbeat_at', UTC_TIME, nullable=True))
        batch.create_index('ix_runs_status', ['status'], unique=False)

    # The 0001 results move aside; the new check_results takes their name and constraint names.
    op.drop_index('ix_check_results_dataset_id', table_name='check_results')
    op.drop_index('ix_check_results_run_id_check_id', table_name='check_results')
    op.drop_index('ix_check_results_run_id_portal_id', table_name='check_results')
    op.rename_table('check_results', 'check_results_0001')
    if bind.dialect.name == 'postgresql':
        op.execute('ALTER TABLE check_results_0001 RENAME CONSTRAINT pk_check_results TO pk_check_results_0001')

    with op.batch_alter_table('datasets') as batch:
        batch.add_column(sa.Column('occurrence', sa.Integer(), server_default=sa.text('1'), nullable=False))
        batch.drop_constraint(op.f('uq_datasets_portal_id_dataset_id'), type_='unique')
        batch.create_unique_constraint(
            op.f('uq_datasets_portal_id_dataset_id_occurrence'), ['portal_id', 'dataset_id', 'occurrence']
        )

    _create_tables()

    with op.batch_alter_table('snapshots') as batch:
        batch.alter_column('status', existing_type=sa.String(length=16), type_=sa.String(length=32),
                           existing_nullable=False)
        batch.drop_constraint(op.f('ck_snapshots_status'), type_='check')
        batch.create_check_constraint(
            op.f('ck_snapshots_status'), "status IN ('complete', 'complete_with_warnings', 'failed')"
        )
        batch.add_column(sa.Column('entry_list_id', BIG_ID, nullable=True))
        batch.create_foreign_key(op.f('fk_snapshots_entry_list_id_entry_lists'), 'entry_lists',
                                 ['entry_list_id'], ['id'])
        batch.create_index(op.f('ix_snapshots_entry_list_id'), ['entry_list_id'], unique=False)
    op.create_table('snapshot_result_sets',
    sa.Column('snapshot_id', sa.Integer(), nullable=False),
    sa.Column('result_set_id', BIG_ID, nullable=False),
    sa.ForeignKeyConstraint(['result_set_id'], ['result_sets.id'], name=op.f('fk_snapshot_result_sets_result_set_id_result_sets')),
    sa.ForeignKeyConstraint(['snapshot_id'], ['snapshots.id'], name=op.f('fk_snapshot_result_sets_snapshot_id_snapshots'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('snapshot_id', 'result_set_id', name=op.f('pk_snapshot_result_sets'))
    )
    op.create_index(op.f('ix_snapshot_result_sets_result_set_id'), 'snapshot_result_sets', ['result_set_id'], unique=False)

    _carry_data_over(bind)

    op.drop_index('ix_snapshot_datasets_dataset_id', table_name='snapshot_datasets')
    op.drop_table('snapshot_datasets')
    op.drop_table('check_results_0001')


def _create_tables() -> None:
    op.create_table('entry_lists',
    sa.Column('id', BIG_ID, nullable=False),
    sa.Column('portal_id', sa.Integer(), nullable=False),
    sa.Column('digest', sa.String(length=64), nullable=False),
    sa.Column('entries', sa.Integer(), nullable=False),
    sa.Column('first_run_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['first_run_id'], ['runs.id'], name=op.f('fk_entry_lists_first_run_id_runs')),
    sa.ForeignKeyConstraint(['portal_id'], ['portals.id'], name=op.f('fk_entry_lists_portal_id_portals'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_entry_lists')),
    sa.UniqueConstraint('portal_id', 'digest', name=op.f('uq_entry_lists_portal_id_digest'))
    )
    op.create_index(op.f('ix_entry_lists_first_run_id'), 'entry_lists', ['first_run_id'], unique=False)
    op.create_table('result_sets',
    sa.Column('id', BIG_ID, nullable=False),
    sa.Column('portal_id', sa.Integer(), nullable=False),
    sa.Column('check_id', sa.String(length=100), nullable=False),
    sa.Column('digest', sa.String(length=64), nullable=False),
    sa.Column('results', sa.Integer(), nullable=False),
    sa.Column('first_run_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['first_run_id'], ['runs.id'], name=op.f('fk_result_sets_first_run_id_runs')),
    sa.ForeignKeyConstraint(['portal_id'], ['portals.id'], name=op.f('fk_result_sets_portal_id_portals'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_result_sets')),
    sa.UniqueConstraint('portal_id', 'digest', name=op.f('uq_result_sets_portal_id_digest'))
    )
    op.create_index(op.f('ix_result_sets_first_run_id'), 'result_sets', ['first_run_id'], unique=False)
    op.create_table('snapshot_entries',
    sa.Column('entry_list_id', BIG_ID, nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('dataset_id', BIG_ID, nullable=False),
    sa.Column('dataset_version_id', BIG_ID, nullable=False),
    sa.Column('repeat_of_position', sa.Integer(), nullable=True),
    sa.Column('flags', JSON, nullable=False),
    sa.ForeignKeyConstraint(['dataset_id'], ['datasets.id'], name=op.f('fk_snapshot_entries_dataset_id_datasets'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['dataset_version_id'], ['dataset_versions.id'], name=op.f('fk_snapshot_entries_dataset_version_id_dataset_versions'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['entry_list_id'], ['entry_lists.id'], name=op.f('fk_snapshot_entries_entry_list_id_entry_lists'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('entry_list_id', 'position', name=op.f('pk_snapshot_entries'))
    )
    op.create_index(op.f('ix_snapshot_entries_dataset_id'), 'snapshot_entries', ['dataset_id'], unique=False)
    op.create_index(op.f('ix_snapshot_entries_dataset_version_id'), 'snapshot_entries', ['dataset_version_id'], unique=False)
    op.create_table('check_results',
    sa.Column('id', BIG_ID, nullable=False),
    sa.Column('portal_id', sa.Integer(), nullable=False),
    sa.Column('dataset_version_id', BIG_ID, nullable=True),
    sa.Column('check_id', sa.String(length=100), nullable=False),
    sa.Column('status', sa.String(length=8), nullable=False),
    sa.Column('value', JSON, nullable=True),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('digest', sa.String(length=64), nullable=False),
    sa.Column('first_run_id', sa.Integer(), nullable=False),
    sa.CheckConstraint("status IN ('pass', 'fail', 'na')", name=op.f('ck_check_results_status')),
    sa.ForeignKeyConstraint(['dataset_version_id'], ['dataset_versions.id'], name=op.f('fk_check_results_dataset_version_id_dataset_versions'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['first_run_id'], ['runs.id'], name=op.f('fk_check_results_first_run_id_runs')),
    sa.ForeignKeyConstraint(['portal_id'], ['portals.id'], name=op.f('fk_check_results_portal_id_portals'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_check_results')),
    sa.UniqueConstraint('digest', name=op.f('uq_check_results_digest'))
    )
    op.create_index(op.f('ix_check_results_dataset_version_id'), 'check_results', ['dataset_version_id'], unique=False)
    op.create_index(op.f('ix_check_results_first_run_id'), 'check_results', ['first_run_id'], unique=False)
    op.create_index('ix_check_results_portal_id_check_id', 'check_results', ['portal_id', 'check_id'], unique=False)
    op.create_table('result_set_members',
    sa.Column('result_set_id', BIG_ID, nullable=False),
    sa.Column('check_result_id', BIG_ID, nullable=False),
    sa.ForeignKeyConstraint(['check_result_id'], ['check_results.id'], name=op.f('fk_result_set_members_check_result_id_check_results'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['result_set_id'], ['result_sets.id'], name=op.f('fk_result_set_members_result_set_id_result_sets'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('result_set_id', 'check_result_id', name=op.f('pk_result_set_members'))
    )
    op.create_index(op.f('ix_result_set_members_check_result_id'), 'result_set_members', ['check_result_id'], unique=False)
    op.create_table('criterion_score_checks',
    sa.Column('score_id', sa.Integer(), nullable=False),
    sa.Column('check_id', sa.String(length=100), nullable=False),
    sa.ForeignKeyConstraint(['score_id'], ['criterion_scores.id'], name=op.f('fk_criterion_score_checks_score_id_criterion_scores'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('score_id', 'check_id', name=op.f('pk_criterion_score_checks'))
    )


# Lightweight table handles for the data copy (the schema as it is at this revision).
_snapshots = sa.table('snapshots', sa.column('id'), sa.column('run_id'), sa.column('portal_id'),
                      sa.column('status'), sa.column('entry_list_id'))
_snapshot_sets = sa.table('snapshot_result_sets', sa.column('snapshot_id'), sa.column('result_set_id'))
_old_entries = sa.table('snapshot_datasets', sa.column('snapshot_id'), sa.column('dataset_id'),
                        sa.column('version'), sa.column('position'))
_versions = sa.table('dataset_versions', sa.column('id'), sa.column('dataset_id'), sa.column('version'))
_old_results = sa.table('check_results_0001', sa.column('id'), sa.column('run_id'), sa.column('portal_id'),
                        sa.column('dataset_id'), sa.column('check_id'), sa.column('status'),
                        sa.column('value', JSON), sa.column('reason'))
_entry_lists = sa.table('entry_lists', sa.column('id'), sa.column('portal_id'), sa.column('digest'),
                        sa.column('entries'), sa.column('first_run_id'))
_entries = sa.table('snapshot_entries', sa.column('entry_list_id'), sa.column('position'),
                    sa.column('dataset_id'), sa.column('dataset_version_id'),
                    sa.column('repeat_of_position'), sa.column('flags', JSON))
_results = sa.table('check_results', sa.column('id'), sa.column('portal_id'), sa.column('dataset_version_id'),
                    sa.column('check_id'), sa.column('status'), sa.column('value', JSON), sa.column('reason'),
                    sa.column('digest'), sa.column('first_run_id'))
_result_sets = sa.table('result_sets', sa.column('id'), sa.column('portal_id'), sa.column('check_id'),
                        sa.column('digest'), sa.column('results'), sa.column('first_run_id'))
_members = sa.table('result_set_members', sa.column('result_set_id'), sa.column('check_result_id'))
_scores = sa.table('criterion_scores', sa.column('id'), sa.column('check_ids', JSON))
_score_checks = sa.table('criterion_score_checks', sa.column('score_id'), sa.column('check_id'))


def _carry_data_over(bind) -> None:
    dropped = 0
    complete = sa.select(_snapshots.c.id, _snapshots.c.run_id, _snapshots.c.portal_id).where(
        _snapshots.c.status == 'complete').order_by(_snapshots.c.id)
    for snapshot_id, run_id, portal_id in bind.execute(complete).all():
        versions = _carry_entries(bind, snapshot_id, run_id, portal_id)
        dropped += _carry_results(bind, snapshot_id, run_id, portal_id, versions)
    if dropped:
        log.warning("0002: %d check results about datasets their snapshot did not list were not carried over",
                    dropped)
    for score_id, check_ids in bind.execute(sa.select(_scores.c.id, _scores.c.check_ids)).all():
        links = [{'score_id': score_id, 'check_id': check_id} for check_id in dict.fromkeys(check_ids or [])]
        if links:
            bind.execute(_score_checks.insert(), links)


def _carry_entries(bind, snapshot_id, run_id, portal_id) -> dict:
    """The snapshot's entry list from its snapshot_datasets rows; returns dataset pk -> version pk."""
    rows = bind.execute(
        sa.select(_old_entries.c.position, _old_entries.c.dataset_id, _versions.c.id)
        .join(_versions, (_versions.c.dataset_id == _old_entries.c.dataset_id)
              & (_versions.c.version == _old_entries.c.version))
        .where(_old_entries.c.snapshot_id == snapshot_id)
        .order_by(_old_entries.c.position)
    ).all()
    entries = [(position, dataset, version, []) for position, dataset, version in rows]
    digest = _entry_list_digest(entries)
    lookup = sa.select(_entry_lists.c.id).where(_entry_lists.c.portal_id == portal_id,
                                                _entry_lists.c.digest == digest)
    entry_list_id = bind.execute(lookup).scalar()
    if entry_list_id is None:
        bind.execute(_entry_lists.insert(), {'portal_id': portal_id, 'digest': digest,
                                             'entries': len(entries), 'first_run_id': run_id})
        entry_list_id = bind.execute(lookup).scalar()
        for start in range(0, len(entries), CHUNK):
            bind.execute(_entries.insert(), [
                {'entry_list_id': entry_list_id, 'position': p, 'dataset_id': d, 'dataset_version_id': v,
                 'repeat_of_position': None, 'flags': []}
                for p, d, v, _ in entries[start:start + CHUNK]])
    bind.execute(_snapshots.update().where(_snapshots.c.id == snapshot_id).values(entry_list_id=entry_list_id))
    return {dataset: version for _, dataset, version, _ in entries}


def _carry_results(bind, snapshot_id, run_id, portal_id, versions) -> int:
    """The snapshot's result sets (one per check) from its run's 0001 results; returns how many
    of those had no entry to judge."""
    rows, dropped = {}, 0
    query = sa.select(_old_results).where(_old_results.c.run_id == run_id,
                                          _old_results.c.portal_id == portal_id).order_by(_old_results.c.id)
    for old in bind.execute(query):
        version = None
        if old.dataset_id is not None:
            version = versions.get(old.dataset_id)
            if version is None:
                dropped += 1
                continue
        digest = _check_result_digest(portal_id, version, old.check_id, old.status, old.value, old.reason)
        rows.setdefault(digest, {'portal_id': portal_id, 'dataset_version_id': version,
                                 'check_id': old.check_id, 'status': old.status, 'value': old.value,
                                 'reason': old.reason, 'digest': digest, 'first_run_id': run_id})
    by_check = {}
    for digest, row in rows.items():
        by_check.setdefault(row['check_id'], []).append(digest)
    for check_id, digests in sorted(by_check.items()):
        set_digest = _result_set_digest(digests)
        lookup = sa.select(_result_sets.c.id).where(_result_sets.c.portal_id == portal_id,
                                                    _result_sets.c.digest == set_digest)
        result_set_id = bind.execute(lookup).scalar()
        if result_set_id is None:
            ids = _result_ids(bind, digests)
            missing = [rows[digest] for digest in digests if digest not in ids]
            for start in range(0, len(missing), CHUNK):
                bind.execute(_results.insert(), missing[start:start + CHUNK])
            ids.update(_result_ids(bind, [row['digest'] for row in missing]))
            bind.execute(_result_sets.insert(), {'portal_id': portal_id, 'check_id': check_id,
                                                 'digest': set_digest, 'results': len(digests),
                                                 'first_run_id': run_id})
            result_set_id = bind.execute(lookup).scalar()
            members = [{'result_set_id': result_set_id, 'check_result_id': ids[digest]} for digest in digests]
            for start in range(0, len(members), CHUNK):
                bind.execute(_members.insert(), members[start:start + CHUNK])
        bind.execute(_snapshot_sets.insert(), {'snapshot_id': snapshot_id, 'result_set_id': result_set_id})
    return dropped


def _result_ids(bind, digests) -> dict:
    found = {}
    for start in range(0, len(digests), CHUNK):
        part = digests[start:start + CHUNK]
        query = sa.select(_results.c.digest, _results.c.id).where(_results.c.digest.in_(part))
        found.update((digest, pk) for digest, pk in bind.execute(query))
    return found


def downgrade() -> None:
    raise NotImplementedError(
        "0002 cannot be undone: 0001 has no room for repeated entries or shared results; "
        "restore the copy of the warehouse taken before upgrading"
    )
