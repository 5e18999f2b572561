"""`manage.py shop_user NAME`: a superuser NAME whose password is DJANGO_SUPERUSER_PASSWORD (from the
environment, never a file or a command line); made, or its password set again, on every run of setup."""

import os
from argparse import ArgumentParser
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Make (or update) a superuser whose password is DJANGO_SUPERUSER_PASSWORD"

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("username")

    def handle(self, *args: Any, **options: Any) -> None:
        password = os.environ.get("DJANGO_SUPERUSER_PASSWORD")
        if not password:
            raise CommandError("set DJANGO_SUPERUSER_PASSWORD in the environment")
        user, _ = get_user_model().objects.get_or_create(username=options["username"])
        user.is_staff = user.is_superuser = True
        user.set_password(password)
        user.save()
