(* `time` prints a line per step, forever, in a loop that does not grow the stack, so only the output
   cap can end it. (REPEAT (time ALL_TAC) recursed too: on a warm toplevel that had grown over a
   session, its stack reached the address-space limit first, and it ended as stack-overflow.) *)
(let rec spam () = ignore (time ALL_TAC ([], `T`)); spam () in spam ())
