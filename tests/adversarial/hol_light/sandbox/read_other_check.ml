(* Second half: passes only if a file an earlier check left is still there to read. *)
let ic = open_in "/tmp/provebench-planted" in let s = input_line ic in
if s = "planted" then ARITH_TAC else failwith "not found"
