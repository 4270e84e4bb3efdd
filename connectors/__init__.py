"""Portal connectors, one module per platform; importing this package registers them."""
