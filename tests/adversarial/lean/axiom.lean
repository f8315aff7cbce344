axiom magic : ∀ a b : Nat, a + b = b + a

theorem pb_add_comm_nat (a b : Nat) : a + b = b + a := magic a b
