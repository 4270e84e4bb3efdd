"""Portal history: archived snapshots read back, dataset identity across runs, observed cadence.

Plain functions on plain data (DatasetRecord lists, datetimes); the backfill and the warehouse
call them, and so do the tests.
"""
