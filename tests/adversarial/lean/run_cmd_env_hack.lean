open Lean Elab Command in
run_cmd modifyEnv fun env => env

theorem pb_add_comm_nat (a b : Nat) : a + b = b + a := Nat.add_comm a b
