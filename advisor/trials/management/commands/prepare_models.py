from django.core.management.base import BaseCommand

from advisor.catalogue.models import LanguageModel, LocalRuntime, Provider
from advisor.trials.runners import weights


class Command(BaseCommand):
    help = (
        "Make the runnable local models fast to load: the bundled one's plain safetensors copy in the data folder, "
        "and each ONNX Runtime GenAI model's conversion at its catalogue precision. Then, once per machine, a few "
        "short calibration runs of the bundled model so that the advisor's speed estimate for this machine starts "
        "from a measurement."
    )

    def add_arguments(self, parser):
        parser.add_argument("--no-calibration", action="store_true", help="Skip the calibration runs.")

    def handle(self, *args, **options):
        local = list(LanguageModel.objects.active().filter(provider__kind=Provider.Kind.TRANSFORMERS).select_related("provider"))
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

        # ONNX Runtime GenAI conversions, for the models whose weights are a local folder here.
        onnx = {(m.weights, m.local_precision) for m in local if m.local_runtime == LocalRuntime.ONNX_GENAI}
        for spec, precision in sorted(onnx):
            if not weights.weights_available_offline(spec):
                self.stdout.write(f"{spec} ({precision}): weights not on this machine, skipped")
                continue
            label = f"{spec} on ONNX Runtime GenAI {precision}"
            if weights.onnx_is_prepared(spec, precision):
                self.stdout.write(f"{label}: ready in {weights.onnx_dir(spec, precision)}")
                continue
            self.stdout.write(f"{label}: converting…")
            try:
                folder = weights.prepare_onnx(spec, precision, progress=lambda message: self.stdout.write(f"  {message}"))
            except weights.ConversionFailed as exc:
                self.stdout.write(self.style.WARNING(f"{label}: {exc} It will run on transformers."))
                continue
            self.stdout.write(self.style.SUCCESS(f"{label}: ready in {folder}"))

        if not options["no_calibration"]:
            from advisor.machines.calibration import calibration_runs_ensure

            calibration_runs_ensure(progress=lambda message: self.stdout.write(message))
