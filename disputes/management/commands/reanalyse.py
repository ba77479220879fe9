"""Re-analyse the claim photos of a merchant's undecided disputes (after new evidence)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from core.models import Merchant
from disputes.services import dispute_reanalyse


class Command(BaseCommand):
    help = "Queue every claim photo of the merchant's undecided disputes for analysis again."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--merchant", required=True, help="The merchant's slug.")

    def handle(self, *args: Any, **options: Any) -> None:
        merchant = Merchant.objects.filter(slug=options["merchant"]).first()
        if merchant is None:
            raise CommandError(f"No merchant with slug '{options['merchant']}'.")
        queued = dispute_reanalyse(merchant=merchant, actor=None)
        self.stdout.write(self.style.SUCCESS(f"{queued} claim photo(s) queued for analysis."))
