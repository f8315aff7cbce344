let _ = Unix.fork () in ARITH_TAC
