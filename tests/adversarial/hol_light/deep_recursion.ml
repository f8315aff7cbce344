let rec depth n = if n = 0 then 0 else 1 + depth (n - 1) in
let _ = depth 1000000000 in ARITH_TAC
