instance (priority := high) instAddZero : Add Nat := ⟨fun _ _ => 0⟩

theorem pb_add_comm_nat (a b : Nat) : a + b = b + a := rfl
