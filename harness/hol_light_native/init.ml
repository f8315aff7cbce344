(* For the native toplevel, what hol.ml does for the bytecode one once HOL
   Light core is loaded: here it is linked in as the module Hol_lib. hol.ml's
   online help and theorem-search database are not loaded (neither decides a
   verdict). *)
open Hol_loader;;
open Hol_lib;;
Hol_loader.file_loader := (fun s -> Toploop.use_file Format.std_formatter s);;

(* The plain printers; colour is never asked for by the check server. *)
let set_color_printer (_ : bool) = ();;
#install_printer pp_print_qterm;;
#install_printer pp_print_qtype;;
#install_printer pp_print_thm;;
#install_printer pp_print_goal;;
#install_printer pp_print_goalstack;;
