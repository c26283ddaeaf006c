"""python -m advisor.serving: serve a local model on ONNX Runtime GenAI (see app.py)."""

import argparse
import os

import django


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=int(os.environ.get("SERVING_PORT", "8001")))
    parser.add_argument("--weights", default=os.environ.get("SERVING_WEIGHTS", "bundled:smollm2-135m-instruct"))
    parser.add_argument("--name", default=os.environ.get("SERVING_MODEL_NAME", "smollm2-135m-instruct"),
                        help="the model id clients ask for (the catalogue's remote name)")
    parser.add_argument("--precision", default=os.environ.get("SERVING_PRECISION", "int8"))
    arguments = parser.parse_args()

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "advisor.settings")
    django.setup()
    import uvicorn
    from django.conf import settings

    from .app import Served, build_app

    served = Served(name=arguments.name, weights=arguments.weights, precision=arguments.precision,
                    parallel=settings.SERVING_PARALLEL, max_tokens=settings.SERVING_MAX_TOKENS)
    # Loopback only by default: the server has no authentication of its own.
    uvicorn.run(build_app(served), host=arguments.host, port=arguments.port, log_level="warning")


if __name__ == "__main__":
    main()
