from django.core.management.base import BaseCommand
from django.db import transaction

from advisor.evaluations.models import Suite, SuiteItem
from advisor.evaluations.samples import sample_suites


class Command(BaseCommand):
    help = "Loads the sample suites (about ten prompts for each of the advisor's tasks). Idempotent; --force reloads their prompts."

    def add_arguments(self, parser):
        parser.add_argument("--force", action="store_true", help="Replace the prompts of samples that exist (unless evaluated).")

    @transaction.atomic
    def handle(self, *args, force=False, **options):
        created = 0
        for key, name, task, items in sample_suites():
            suite, made = Suite.objects.get_or_create(sample_key=key, is_sample=True, owner=None, defaults={"name": name, "task": task})
            if not made and not (force and not suite.evaluations.exists()):
                continue
            created += made
            suite.items.all().delete()
            SuiteItem.objects.bulk_create([SuiteItem(suite=suite, position=i, prompt=item["prompt"], system=item["system"], expected=item["expected"], check_kind=item["check"], tags=item["tags"]) for i, item in enumerate(items)])
        self.stdout.write(f"Sample suites: {created} created, {Suite.objects.filter(is_sample=True).count()} in all.")
