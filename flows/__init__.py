"""Prefect flows: they only orchestrate the plain functions of wwc_pipeline."""
