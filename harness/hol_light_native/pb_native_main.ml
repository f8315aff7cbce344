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
  Toploop.add_directive "load" (Toploop.Directive_string load)
    { Toploop.section = "Loading code"; doc = "Accept what is linked in; refuse anything else." };
  exit (Topmain.main ())
