"""Serve Studio's MCP server over stdio, acting with one API token."""

import os

from django.core.management.base import BaseCommand, CommandError

from integrations.tokens import token_authenticate


class Command(BaseCommand):
    help = "Run the MCP server over stdin/stdout (token: --token or STUDIO_API_TOKEN)."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--token",
            default=os.environ.get("STUDIO_API_TOKEN", ""),
            help="A personal API token (defaults to $STUDIO_API_TOKEN; prefer the variable).",
        )

    def handle(self, *args, token: str, **options) -> None:
        from integrations.mcp_server import run_stdio

        if token_authenticate(token.strip()) is None:
            raise CommandError("Give a live API token with --token or STUDIO_API_TOKEN.")
        run_stdio(token.strip())
