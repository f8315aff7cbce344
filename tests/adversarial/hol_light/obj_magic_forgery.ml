let th : thm = Obj.magic ([], `!m n. m + n = n + m`) in ACCEPT_TAC th
