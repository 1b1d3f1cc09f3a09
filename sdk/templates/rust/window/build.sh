#!/bin/sh
# Builds the plugin into build/{{name_snake}}.wasm, a WebAssembly component (what
# `weir build` runs; `component` in weir-project.toml names the result).
set -eu
cargo build --release --target wasm32-wasip2
mkdir -p build
cp "${CARGO_TARGET_DIR:-target}/wasm32-wasip2/release/{{name_snake}}.wasm" build/
