(* The native HOL Light toplevel: HOL Light core, camlp5 with HOL Light's
   pa_j, Unix and the check server's process supervisor are linked in, and
   every phrase it is given is compiled to native code before it runs.

   The check server (harness/hol_light/server.ml) is the bytecode checker's,
   unchanged: its "#load" of what is linked in here is a no-op, and any other
   "#load" is refused (a native toplevel loads no bytecode). *)

let linked = [ "unix.cma"; "pb_proc.cma" ]

let load name =
  if not (List.mem (Filename.basename name) linked) then
    Format.eprintf "#load %S: the native HOL Light toplevel loads no code at run time@." name

(* Contexts compiled at image build (build_contexts.sh): #pb_context "NAME" loads one in place of its text, in
   the process that would have evaluated that text, and opens it, so later phrases see its values as they
   would see the text's. Which text a name stands for is the client's to check (the index's hash). *)
let contexts_dir = "/opt/provebench/native/contexts"

let load_context name =
  let modname = "pb_context_" ^ name in
  let plugin = Filename.concat contexts_dir (modname ^ ".cmxs") in
  if String.contains name '/' || not (Sys.file_exists plugin) then
    failwith ("no compiled context " ^ name ^ " in this checker");
  Topdirs.dir_directory contexts_dir;
  if not (Toploop.load_file Format.err_formatter plugin) then failwith ("compiled context " ^ name ^ " did not load");
  let opening = !Toploop.parse_toplevel_phrase (Lexing.from_string ("open " ^ String.capitalize_ascii modname ^ ";;")) in
  if not (Toploop.execute_phrase false Format.err_formatter opening) then
    failwith ("compiled context " ^ name ^ " did not open")

let () =
  Pb_camlp5_top.install ();
  (* Each phrase is assembled and linked into a shared object, then loaded. The linker is ld itself, not
     the gcc driver that OCaml's configuration names (which runs ld for it): measured here, a trivial
     check took 20 ms instead of 44. The object needs no C start-up files: it holds OCaml code only,
     whose symbols the loaded toplevel provides. *)
  Clflags.c_compiler := Some "ld -shared";
  Toploop.add_directive "load" (Toploop.Directive_string load)
    { Toploop.section = "Loading code"; doc = "Accept what is linked in; refuse anything else." };
  Toploop.add_directive "pb_context" (Toploop.Directive_string load_context)
    { Toploop.section = "Loading code"; doc = "Load and open a context compiled at image build." };
  exit (Topmain.main ())
