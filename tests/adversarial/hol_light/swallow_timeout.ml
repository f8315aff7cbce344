(* Catches every exception and keeps going: the kill must still land. *)
let rec spin x = try spin (x + 1) with _ -> spin x in spin 0
