#!/bin/sh
# Builds the native HOL Light toplevel into /opt/provebench/native, in the
# hol-light-native image (see containers/hol-light-native/Dockerfile). HOL
# Light core is compiled as upstream's Makefile compiles hol_lib.cmxa (the
# benchmark's native build does the same), from the sources Debian's package
# installs; HOL Light's pa_j, of which the package ships only the bytecode,
# is compiled from the same package's source.
set -eu
src="$1"            # the unpacked Debian source of the installed hol-light
out=/opt/provebench/native
hol=/usr/share/hol-light
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
cd "$work"

# pa_j, chosen for this OCaml and camlp5 as the package's own chooser does.
pa_j=$(cd "$src" && sh pa_j/chooser.sh)
cp "$src/pa_j/$pa_j" pa_j_native.ml
ocamlfind ocamlopt -package camlp5,camlp-streams \
    -pp "camlp5r pa_lexer.cmo pa_extend.cmo q_MLast.cmo" -I "$(camlp5 -where)" -c pa_j_native.ml

# HOL Light core: the loader, bignums on zarith, and every core file inlined.
cp "$hol"/*.ml .
ocamlfind ocamlopt -package zarith -c -o bignum.cmx bignum_zarith.ml
ocamlfind ocamlopt -c hol_loader.ml
HOLLIGHT_DIR="$work" ocaml inline_load.ml hol_lib.ml hol_lib_inlined.ml -omit-prelude
mkdir core && mv hol_lib_inlined.ml core/hol_lib.ml && cp bignum.cm* bignum.o hol_loader.cm* hol_loader.o core/
cd core
OCAMLRUNPARAM=l=2000000000 ocamlfind ocamlopt -package zarith,unix -w -a \
    -pp "camlp5r pa_lexer.cmo pa_extend.cmo q_MLast.cmo -I $hol pa_j.cmo" -I . -c hol_lib.ml
ocamlfind ocamlopt -a -o hol_lib.cmxa bignum.cmx hol_loader.cmx hol_lib.cmx

# The check server's process supervisor, and the toplevel itself.
cp /opt/provebench/harness/hol_light/pb_proc.ml /opt/provebench/harness/hol_light/pb_trial.ml \
    /opt/provebench/harness/hol_light/pb_limits.c .
ocamlfind ocamlopt -package unix -c pb_proc.ml pb_trial.ml
ocamlfind ocamlopt -c pb_limits.c
cp "$here/pb_camlp5_top.ml" "$here/pb_native_main.ml" .
ocamlfind ocamlopt -package camlp5,camlp-streams,compiler-libs.common -c pb_camlp5_top.ml
ocamlfind ocamlopt -package compiler-libs.native-toplevel -c pb_native_main.ml
ocamlfind ocamlopt -package compiler-libs.native-toplevel,camlp5,camlp5.pa_o.link,camlp-streams,zarith,unix \
    -linkpkg -linkall -I . hol_lib.cmxa ../pa_j_native.cmx pb_limits.o pb_proc.cmx pb_trial.cmx pb_camlp5_top.cmx \
    pb_native_main.cmx -o hol-native

# What phrases compiled at run time need: the interfaces (and, for inlining, the .cmx) of what is linked.
# HOL Light core's library as well, for whole programs built the benchmark's own way (benchmarks/native.py
# measures a checker against them).
mkdir -p "$out"
cp hol-native hol_lib.cmi hol_lib.cmx hol_lib.cmxa hol_lib.a hol_loader.cmi hol_loader.cmx bignum.cmi bignum.cmx \
    pb_proc.cmi pb_proc.cmx pb_trial.cmi pb_trial.cmx "$here/init.ml" "$out/"
# hol.ml's own definitions that code outside HOL Light core reads (the check server's greeting, libraries).
grep -E '^let (hol_version|temp_path) ' "$hol/hol.ml" >> "$out/init.ml"
test "$(grep -c -E '^let (hol_version|temp_path) ' "$out/init.ml")" = 2
cd / && rm -rf "$work"
