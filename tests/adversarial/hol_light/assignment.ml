let r = ref 0 in let () = r := 1 in ARITH_TAC
