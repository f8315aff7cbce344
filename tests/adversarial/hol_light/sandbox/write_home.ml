(* Passes only if the check could write into /var or /home (read-only root). *)
let oc = open_out "/var/tmp/escaped" in let () = close_out oc in
let oc2 = open_out "/home/escaped" in let () = close_out oc2 in ARITH_TAC
