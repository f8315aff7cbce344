let oc = open_out "/tmp/provebench-pwned" in let () = output_string oc "x" in ARITH_TAC
