#!/bin/sh
# Builds build/{{name_snake}}.wasm from app.py with componentize-py and Weir's Python
# SDK, both from a Weir checkout: $WEIR_HOME (default: the folder above the WIT files
# `weir new` used), where scripts/install-lang-tools installed the tools.
set -eu
WEIR_HOME="${WEIR_HOME:-{{wit_dir}}/..}"
componentize_py="${COMPONENTIZE_PY:-$WEIR_HOME/.tools/venv/bin/componentize-py}"
mkdir -p build
"$componentize_py" -d wit -w window-process componentize \
  -p "$WEIR_HOME/sdk/python" -p . app -o build/{{name_snake}}.wasm >/dev/null
echo "built build/{{name_snake}}.wasm"
