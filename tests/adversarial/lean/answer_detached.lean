abbrev pb_two_pow_ten_solution : Nat := 1000

theorem pb_two_pow_ten : 2 ^ 10 = 1024 := rfl
