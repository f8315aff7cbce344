#!/bin/sh
# Compiles trusted contexts into native plugins, at image build (the hol-light-s2n-native image: s2n-bignum's
# base.ml per architecture). Each NAME.ml in the first folder is a context's text exactly as provebench sends
# it to a checker when a template starts with it (its includes under the source expanded, comments left
# out); provebench writes them into the build context. The native toplevel's #pb_context "NAME" loads the
# plugin in place of that text (harness/hol_light_native/pb_native_main.ml), and the index says which text
# each one is: "NAME LINES SHA256" of the text compiled.
#
# The text is compiled as the benchmark's own native build compiles a proof file: HOL Light's
# inline_load.ml expands what is left to include (HOL Light's library, once) and leaves out
# update_database.ml, then ocamlopt with pa_j compiles it against HOL Light core as linked in.
set -eu
src="$1"   # the contexts' texts
cwd="$2"   # the folder the texts' includes and file reads are relative to (the suite's working folder)
out=/opt/provebench/native/contexts
hol=/usr/share/hol-light
work=$(mktemp -d)
mkdir -p "$out"
: > "$out/index"
for f in "$src"/*.ml; do
    name=$(basename "$f" .ml)
    module="pb_context_$name"
    start=$(date +%s)
    if ! (cd "$cwd" && HOLLIGHT_DIR="$hol" ocaml "$hol/inline_load.ml" "$f" "$work/$module.ml") > "$work/$name.log" 2>&1
    then
        cat "$work/$name.log"; exit 1
    fi
    (cd "$work" && OCAMLRUNPARAM=l=2000000000 ocamlfind ocamlopt -package zarith,unix -w -a \
        -pp "camlp5r pa_lexer.cmo pa_extend.cmo q_MLast.cmo -I $hol pa_j.cmo" -I /opt/provebench/native \
        -c "$module.ml" && ocamlfind ocamlopt -shared -o "$module.cmxs" "$module.cmx")
    cp "$work/$module.cmxs" "$work/$module.cmi" "$work/$module.cmx" "$out/"
    echo "$name $(wc -l < "$f") $(sha256sum "$f" | cut -d ' ' -f 1)" >> "$out/index"
    echo "compiled context $name ($(wc -l < "$f") lines) in $(( $(date +%s) - start )) s"
done
rm -rf "$work"
