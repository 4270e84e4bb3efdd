"""Portal connectors, one module per platform; importing this package registers them.

Adding a platform: one new module that calls `register_connector`, and one line here.
"""

from connectors import ckan, dcat, opendatasoft, socrata  # noqa: F401
