theorem pb_add_comm_nat (a b : Nat) : a + b = b + a := by decide +native
