#!/bin/sh
# Builds the JavaScript operator in the current directory (index.js, which imports the
# SDK from ./build/weir-sdk/) into a component of WORLD at OUT with jco's QuickJS
# backend; the WIT files are in $WIT (default ./wit). Used by the templates' build.sh
# and scripts/build-lang-plugins.
#   usage: sh build-component.sh WORLD OUT
set -eu
world=$1 out=$2
weir_home=$(cd "$(dirname "$0")/../.." && pwd)
jco="${JCO:-$weir_home/.tools/node/node_modules/.bin/jco}"
wit=$(cd "${WIT:-wit}" && pwd)
mkdir -p build/weir-sdk "$(dirname "$out")"
cp "$weir_home"/sdk/js/*.js build/weir-sdk/
out=$(cd "$(dirname "$out")" && pwd)/$(basename "$out")
"$jco" componentize "$PWD/index.js" --cwd "$PWD" --wit "$wit" --world-name "$world" \
  --backend quickjs --backend-qjs-disable-async -o "$out" >/dev/null
