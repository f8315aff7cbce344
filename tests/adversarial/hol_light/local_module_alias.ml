let module M = Stdlib in ARITH_TAC
