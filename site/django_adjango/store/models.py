"""The tables of the database views: a seeded table they read by an indexed key, and one they insert into."""

from django.db import models

# Rows the seed command writes; the read views pick keys from 1 to this.
SEED_ROWS = 10_000


class Item(models.Model):
    number = models.IntegerField(unique=True)  # the indexed key the read views look up
    name = models.CharField(max_length=64)
    price_cents = models.IntegerField()


class Entry(models.Model):
    # Inserts go to a table of their own, so the table the read views use stays as seeded.
    created = models.DateTimeField(auto_now_add=True)
    note = models.CharField(max_length=64)
