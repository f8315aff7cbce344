(* Binds new_definition for itself, so vetting lets the name through, then
   calls it outside that binding's scope, meaning HOL Light's own. The checker
   must never see HOL Light's: outside the proof's binding the name is (). *)
(let new_definition = 0 in ALL_TAC) THEN
(fun g -> let _ = new_definition `pb_escape_c = T` in ARITH_TAC g)
