-- A theorem's `where` clause declares a definition (`helper.forge`), which an aesop-based tactic names as a rule.
theorem helper : True := trivial
where
  forge : Lean.Elab.Tactic.TacticM Unit := do
    let goal ← Lean.Elab.Tactic.getMainGoal
    goal.assign (← Lean.Meta.mkSorry (← goal.getType) false)

theorem pb_add_comm_nat (a b : Nat) : a + b = b + a := by aesop_cat (add safe helper.forge)
