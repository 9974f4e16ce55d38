#!/bin/sh
# Builds the libFuzzer harnesses of the C addons with AddressSanitizer and UBSan (README.md here).
# Usage: build.sh [OUT_DIR]   (default: ./bin beside this script). Needs clang with libFuzzer
# (Debian: clang libclang-rt-dev) and OpenSSL's libcrypto (libssl-dev).
set -e
# The output folder as the caller named it (relative to the caller's folder), else bin/ here.
case ${1:-} in
  '') OUT="$(cd "$(dirname "$0")" && pwd)/bin" ;;
  /*) OUT=$1 ;;
  *) OUT="$(pwd)/$1" ;;
esac
cd "$(dirname "$0")"
A=../../agent
CC=${CC:-clang}
# Node's headers (node_api.h, and the OpenSSL headers node carries): beside the running node.
NODE_INC=${NODE_INC:-$(node -p "require('path').resolve(process.execPath, '../../include/node')")}
CFLAGS="-g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer -I$NODE_INC -Wno-deprecated-declarations"
FLOW="$A/flows/native/table.c $A/flows/native/accumulate.c $A/flows/native/fragments.c $A/flows/native/decode.c $A/flows/native/link.c"
META="$A/meta/native/hello_watch.c $A/meta/native/gquic_chlo.c $A/meta/native/gquic_hash.c $A/meta/native/dtls_watch.c $A/meta/native/tls_resume.c $A/meta/native/quic_split.c $A/meta/native/tls_hello_parse.c $A/meta/native/ja4.c $A/meta/native/ja4_cache.c $A/meta/native/hello_rec.c $A/meta/native/quic_initial.c $A/meta/native/quic_open.c $A/meta/native/quic_hmac.c $A/meta/native/tls_split.c"
mkdir -p "$OUT"
$CC $CFLAGS -o "$OUT/fuzz_frame" fuzz_frame.c napi_stub.c $FLOW $META -lcrypto -lm -lpthread
$CC $CFLAGS -o "$OUT/fuzz_hello" fuzz_hello.c napi_stub.c $META -lcrypto -lm -lpthread
$CC $CFLAGS -o "$OUT/fuzz_quic" fuzz_quic.c napi_stub.c $META -lcrypto -lm -lpthread
$CC $CFLAGS -o "$OUT/fuzz_gquic" fuzz_gquic.c $A/meta/native/gquic_chlo.c $A/meta/native/gquic_hash.c -lm
$CC $CFLAGS -o "$OUT/fuzz_cells" fuzz_cells.c $A/meta/native/meta_cells.c -lm
$CC $CFLAGS -I$A/features/native -o "$OUT/fuzz_rowfmt" fuzz_rowfmt.c napi_stub.c napi_stub_row.c $A/features/native/row_format.c $A/meta/native/meta_cells.c -lm
$CC $CFLAGS -o "$OUT/fuzz_label" fuzz_label.c napi_stub.c -lm
echo "built 7 harnesses in $OUT"
