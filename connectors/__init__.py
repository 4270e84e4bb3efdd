"""Portal connectors, one module per platform; importing this package registers them.

Adding a platform: one new module that calls `register_connector`, and one line here.
"""

from wwc_pipeline.connectors import ckan, dcat, opendatasoft, socrata  # noqa: F401
