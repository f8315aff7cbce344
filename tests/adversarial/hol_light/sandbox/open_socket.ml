(* Passes only if a connection out of the container could be made: the container has no network, so
   TEST-NET-1 (a documentation address, never routed) is unreachable and nothing is sent. *)
let addrs = Unix.getaddrinfo "192.0.2.1" "80" [] in
let connects a =
  try let s = Unix.socket a.Unix.ai_family a.Unix.ai_socktype 0 in Unix.connect s a.Unix.ai_addr; true
  with Unix.Unix_error _ -> false in
if addrs <> [] && List.exists connects addrs then ARITH_TAC else failwith "no connection"
