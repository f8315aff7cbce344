ARITH_TAC (* the wrapper is eaten by this comment
