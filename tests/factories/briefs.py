"""Factories for the briefs app."""
