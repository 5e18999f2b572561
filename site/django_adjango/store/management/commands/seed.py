"""`django-admin seed`: fill the read views' table with SEED_ROWS rows, once; run after `migrate`.

A table that already holds exactly the seeded rows is left alone, so seeding a server that outlives one
run (a database given by URL) costs nothing the second time.
"""

from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction

from django_adjango.store.models import SEED_ROWS, Item


class Command(BaseCommand):
    help = "Fill the database views' table with its seeded rows."

    def handle(self, *args: Any, **options: Any) -> None:
        if Item.objects.count() == SEED_ROWS and Item.objects.filter(number=SEED_ROWS).exists():
            self.stdout.write(f"seed: {SEED_ROWS} rows already there")
            return
        with transaction.atomic():
            Item.objects.all().delete()
            Item.objects.bulk_create(
                (Item(number=n, name=f"item {n}", price_cents=n * 7 % 10_000) for n in range(1, SEED_ROWS + 1)),
                batch_size=1000,
            )
        self.stdout.write(f"seed: {SEED_ROWS} rows written")
