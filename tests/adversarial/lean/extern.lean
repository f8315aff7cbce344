@[extern "lean_nat_add"] opaque cAdd (a b : Nat) : Nat

theorem pb_add_comm_nat (a b : Nat) : a + b = b + a := Nat.add_comm a b
