#!/bin/sh
# Builds build/{{name_snake}}.wasm from the C sources with `zig cc` (wasm32-wasi) and
# Weir's C SDK, then makes a component with wasm-componentize (bindings + the WASI
# preview1 reactor adapter), all from a Weir checkout: $WEIR_HOME (default: the folder
# above the WIT files `weir new` used), where scripts/install-lang-tools installed zig.
set -eu
WEIR_HOME="${WEIR_HOME:-{{wit_dir}}/..}"
world=window-process
componentize="$WEIR_HOME/target/release/wasm-componentize"
[ -x "$componentize" ] || (cd "$WEIR_HOME" && cargo build --quiet --release -p wasm-componentize)
mkdir -p build/bindings
"$componentize" bindings --wit wit --world "$world" --out build/bindings
c_world=$(echo "$world" | tr - _)
if [ -n "${ZIG:-}" ]; then set -- "$ZIG"; else set -- "$WEIR_HOME/.tools/venv/bin/python" -m ziglang; fi
"$@" cc -target wasm32-wasi -mexec-model=reactor \
  -O2 -s -Wall -I build/bindings -I "$WEIR_HOME/sdk/c" -o build/core.wasm \
  ./*.c "build/bindings/$c_world.c" "build/bindings/${c_world}_component_type.o"
"$componentize" component --wit wit --world "$world" build/core.wasm -o build/{{name_snake}}.wasm
echo "built build/{{name_snake}}.wasm"
