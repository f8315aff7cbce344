abbrev pb_two_pow_ten_solution : Nat := 0

namespace Decoy
abbrev pb_two_pow_ten_solution : Nat := 1024
end Decoy

open Decoy in
theorem pb_two_pow_ten : 2 ^ 10 = Decoy.pb_two_pow_ten_solution := rfl
