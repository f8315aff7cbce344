(* a comment with a "string *)" inside *) CHEAT_TAC
