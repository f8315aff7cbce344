section Hidden

theorem pb_add_comm_nat (a b : Nat) : a + b = b + a := Nat.add_comm a b
