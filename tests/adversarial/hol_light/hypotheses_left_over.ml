ACCEPT_TAC (ASSUME `!m n. m + n = n + m`)
