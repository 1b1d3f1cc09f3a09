#!/bin/sh
# Builds build/{{name_snake}}.wasm from index.js with jco (QuickJS backend) and Weir's
# JavaScript SDK, both from a Weir checkout: $WEIR_HOME (default: the folder above the
# WIT files `weir new` used), where scripts/install-lang-tools installed the tools.
set -eu
WEIR_HOME="${WEIR_HOME:-{{wit_dir}}/..}"
jco="${JCO:-$WEIR_HOME/.tools/node/node_modules/.bin/jco}"
mkdir -p build/weir-sdk
cp "$WEIR_HOME"/sdk/js/*.js build/weir-sdk/
"$jco" componentize "$PWD/index.js" --cwd "$PWD" --wit "$PWD/wit" --world-name window-process \
  --backend quickjs --backend-qjs-disable-async -o "$PWD/build/{{name_snake}}.wasm" >/dev/null
echo "built build/{{name_snake}}.wasm"
