(* Passes only if the check's capability bounding set is not empty (the container drops every one). *)
let ic = open_in "/proc/self/status" in
let rec field name = match input_line ic with
  | line when String.length line > String.length name && String.sub line 0 (String.length name) = name ->
      close_in ic; String.trim (String.sub line (String.length name) (String.length line - String.length name))
  | _ -> field name
  | exception End_of_file -> close_in ic; "" in
let bounding = field "CapBnd:" in
if String.exists (fun c -> c <> '0') bounding then ARITH_TAC else failwith "sandbox held: no capabilities"
