(* First half of a pair: leaves things for a later check in every place a check can write (a file in
   /tmp, a folder there it made unreadable, a POSIX message queue), then fails. *)
let put path = let oc = open_out path in let () = output_string oc "planted" in close_out oc in
let () = put "/tmp/provebench-planted" in
let () = Sys.mkdir "/tmp/provebench-hidden" 0o755 in
let () = put "/tmp/provebench-hidden/inside" in
let () = Unix.chmod "/tmp/provebench-hidden" 0o000 in
let () = close_out (open_out "/dev/mqueue/provebench-planted") in  (* a queue takes no write(2) *)
failwith "planted"
