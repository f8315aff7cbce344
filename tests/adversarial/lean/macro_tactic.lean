macro "magic" : tactic => `(tactic| exact Nat.add_comm _ _)

theorem pb_add_comm_nat (a b : Nat) : a + b = b + a := by magic
