(* Passes only if the check could start 5000 processes (the container's pids limit is far lower). *)
let rec spawn n = if n = 0 then () else
  match Unix.fork () with 0 -> (Unix.sleep 600; exit 0) | _ -> spawn (n - 1) in
let () = spawn 5000 in ARITH_TAC
