"""The shop's three items: POSTs to /orders/ name them by id."""

from typing import Any

from django.db import migrations

ITEMS = [("Tea", 450), ("Coffee", 380), ("Cake", 520)]


def add_items(apps: Any, schema_editor: Any) -> None:
    item = apps.get_model("store", "Item")
    item.objects.bulk_create(item(pk=pk, name=name, price_cents=price) for pk, (name, price) in enumerate(ITEMS, 1))


class Migration(migrations.Migration):
    dependencies = [("store", "0001_initial")]

    operations = [migrations.RunPython(add_items, migrations.RunPython.noop)]
