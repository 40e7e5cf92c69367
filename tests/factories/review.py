"""Factories for the review app."""
