"""The default configuration files, shipped inside the package as `wwc_pipeline.default_config`.

`config/` in the working directory, `--config` or the environment variables override them.
"""
