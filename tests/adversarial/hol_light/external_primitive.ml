let module M = struct external magic : 'a -> 'b = "%identity" end in ARITH_TAC
