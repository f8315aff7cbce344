let _ = new_definition `provebench_c = 1` in ARITH_TAC
