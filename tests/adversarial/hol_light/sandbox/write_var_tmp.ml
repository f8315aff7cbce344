(* Passes only if the check could create a file in /var/tmp: world-writable in the image, so only the
   read-only root stops it (the checker user's permissions would not). *)
let oc = open_out "/var/tmp/escaped" in let () = close_out oc in ARITH_TAC
