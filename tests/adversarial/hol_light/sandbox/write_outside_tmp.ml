(* Passes only if the container let the check create a file outside /tmp (read-only root). *)
let oc = open_out "/opt/provebench/escaped" in let () = close_out oc in ARITH_TAC
