notation:65 a " ⊕⊕ " b => Nat.add b a

theorem pb_add_comm_nat (a b : Nat) : a + b = b + a := Nat.add_comm a b
