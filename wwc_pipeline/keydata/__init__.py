"""Key datasets (the US City Open Data Census list) and disaggregated data, matched by config.

`rules` loads and validates config/key_datasets.yaml; `matching` finds the key types of a record;
`columns` finds the demographic and small-area dimensions in its column names; `summary` picks
a city's best match per type across its portals, for scoring and reports.
"""
