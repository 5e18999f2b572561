from django.db import models


class Item(models.Model):
    name = models.CharField(max_length=100)
    price_cents = models.PositiveIntegerField()


class Order(models.Model):
    item = models.ForeignKey(Item, on_delete=models.PROTECT)
    quantity = models.PositiveIntegerField()
    # Which of Django's handlers served the request that made it: "wsgi" or "asgi".
    interface = models.CharField(max_length=4)
    created = models.DateTimeField(auto_now_add=True)
