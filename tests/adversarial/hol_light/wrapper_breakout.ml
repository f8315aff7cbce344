ARITH_TAC) : tactic));; let forged = new_axiom `F` in ((ARITH_TAC
