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

let () =
  Pb_camlp5_top.install ();
  (* Each phrase is assembled and linked into a shared object, then loaded. The linker is ld itself, not
     the gcc driver that OCaml's configuration names (which runs ld for it): measured here, a trivial
     check took 20 ms instead of 44. The object needs no C start-up files: it holds OCaml code only,
     whose symbols the loaded toplevel provides. *)
  Clflags.c_compiler := Some "ld -shared";
  Toploop.add_directive "load" (Toploop.Directive_string load)
    { Toploop.section = "Loading code"; doc = "Accept what is linked in; refuse anything else." };
  exit (Topmain.main ())
