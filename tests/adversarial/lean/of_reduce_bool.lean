theorem pb_add_comm_nat (a b : Nat) : a + b = b + a := Lean.ofReduceBool _ _ rfl ▸ Nat.add_comm a b
