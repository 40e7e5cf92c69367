"""Factories for the retrieval app."""
