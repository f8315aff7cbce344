def slowAdd (a b : Nat) : Nat := a + b

@[implemented_by slowAdd] def fastAdd (a b : Nat) : Nat := b + a

theorem pb_add_comm_nat (a b : Nat) : a + b = b + a := Nat.add_comm a b
