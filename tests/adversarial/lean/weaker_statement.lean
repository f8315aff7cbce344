theorem pb_add_comm_nat (a : Nat) : a + 0 = 0 + a := by omega
