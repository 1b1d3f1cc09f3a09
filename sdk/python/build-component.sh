#!/bin/sh
# Builds the Python operator in the current directory (module `app`) into a component
# of WORLD at OUT with componentize-py and this SDK; the WIT files are in $WIT (default
# ./wit). Used by the templates' build.sh and scripts/build-lang-plugins.
#   usage: sh build-component.sh WORLD OUT
set -eu
world=$1 out=$2
weir_home=$(cd "$(dirname "$0")/../.." && pwd)
componentize_py="${COMPONENTIZE_PY:-$weir_home/.tools/venv/bin/componentize-py}"
mkdir -p "$(dirname "$out")"
"$componentize_py" -d "${WIT:-wit}" -w "$world" componentize \
  -p "$weir_home/sdk/python" -p . app -o "$out" >/dev/null
