(* Passes only if the check could lift its own address-space limit and then reserve 64 GB. *)
let () = Pb_proc.setrlimit Pb_proc.Address_space ~soft:(-1) ~hard:(-1) in
let big = Bytes.create (64 * 1024 * 1024 * 1024) in
let () = Bytes.set big 0 'x' in ARITH_TAC
