(* First half of a pair: leaves a file in /tmp for a later check, then fails. *)
let oc = open_out "/tmp/provebench-planted" in let () = output_string oc "planted" in let () = close_out oc in
failwith "planted"
