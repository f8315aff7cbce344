(* Passes only if the check could run a shell command that changes anything outside /tmp. *)
if Sys.command "touch /opt/provebench/escaped-by-shell" = 0 then ARITH_TAC else failwith "blocked"
