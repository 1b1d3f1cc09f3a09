#!/bin/sh
# Builds build/{{name_snake}}.wasm (keyed-process) with zig cc and wasm-componentize and Weir's
# SDK layer, from a Weir checkout: $WEIR_HOME (default: the folder above the WIT files
# `weir new` used), where scripts/install-lang-tools installed the tools.
set -eu
WEIR_HOME="${WEIR_HOME:-{{wit_dir}}/..}"
sh "$WEIR_HOME/sdk/c/build-component.sh" keyed-process build/{{name_snake}}.wasm
echo "built build/{{name_snake}}.wasm"
