#!/bin/sh
# Builds build/{{name_snake}}.wasm (window-process) with componentize-py and Weir's
# SDK layer, from a Weir checkout: $WEIR_HOME (default: the checkout the `weir`
# that made this project was built from), where scripts/install-lang-tools installed the tools.
set -eu
WEIR_HOME="${WEIR_HOME:-{{weir_home}}}"
sh "$WEIR_HOME/sdk/python/build-component.sh" window-process build/{{name_snake}}.wasm
echo "built build/{{name_snake}}.wasm"
