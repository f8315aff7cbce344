-- What `@[aesop]` does, as a command: the candidate's code registered as a rule for every aesop call after it.
open Lean Elab Tactic in
def forge : TacticM Unit := do
  let goal ← getMainGoal
  goal.assign (← mkSorry (← goal.getType) false)

add_aesop_rules safe tactic forge

theorem pb_add_comm_nat (a b : Nat) : a + b = b + a := by aesop
