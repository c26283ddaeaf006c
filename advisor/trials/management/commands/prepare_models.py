from django.core.management.base import BaseCommand

from advisor.catalogue.models import LanguageModel, Provider
from advisor.trials.runners import weights


class Command(BaseCommand):
    help = "Make the runnable local models fast to load (the bundled one: a plain safetensors copy in the data folder)."

    def handle(self, *args, **options):
        local = LanguageModel.objects.active().filter(provider__kind=Provider.Kind.TRANSFORMERS)
        specs = sorted({m.weights for m in local if m.weights.startswith("bundled:") or ".gguf" in m.weights})
        specs = specs or [f"bundled:{name}" for name in weights.BUNDLED]
        for spec in specs:
            source = weights.resolve(spec)
            if weights.is_prepared(source):
                self.stdout.write(f"{spec}: ready in {source.prepared_dir}")
                continue
            self.stdout.write(f"{spec}: preparing…")
            weights.prepare_weights(source, progress=lambda message: self.stdout.write(f"  {message}"))
            self.stdout.write(self.style.SUCCESS(f"{spec}: ready in {source.prepared_dir}"))
