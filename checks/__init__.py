"""Check families, one module per family; importing this package registers them.

Adding a check family: one new module using the registry decorators, and one line here.
"""

from wwc_pipeline.checks import (  # noqa: F401
    content,
    formats,
    freshness,
    history,
    key_datasets,
    licences,
    links,
    metadata,
    portal,
)
