#!/bin/sh
# Builds the C operator in the current directory (*.c) into a component of WORLD at
# OUT: C bindings and the component from tools/wasm-componentize, `zig cc` from PyPI's
# ziglang (wasm32-wasi, reactor) with this SDK's headers; the WIT files are in $WIT
# (default ./wit). Used by the templates' build.sh and scripts/build-lang-plugins.
#   usage: sh build-component.sh WORLD OUT
set -eu
world=$1 out=$2
weir_home=$(cd "$(dirname "$0")/../.." && pwd)
wit="${WIT:-wit}"
componentize="$weir_home/target/release/wasm-componentize"
(cd "$weir_home" && cargo build --quiet --release -p wasm-componentize)
c_world=$(echo "$world" | tr - _)
mkdir -p build/bindings "$(dirname "$out")"
"$componentize" bindings --wit "$wit" --world "$world" --out build/bindings
if [ -n "${ZIG:-}" ]; then set -- "$ZIG"; else set -- "$weir_home/.tools/venv/bin/python" -m ziglang; fi
"$@" cc -target wasm32-wasi -mexec-model=reactor -O2 -s -Wall -Werror \
  -I build/bindings -I "$weir_home/sdk/c" -o build/core.wasm \
  ./*.c "build/bindings/$c_world.c" "build/bindings/${c_world}_component_type.o"
"$componentize" component --wit "$wit" --world "$world" build/core.wasm -o "$out"
