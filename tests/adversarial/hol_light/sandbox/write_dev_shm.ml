(* Passes only if the check could create a file in /dev/shm, which Docker mounts writable for every
   user even with a read-only root unless the container has no IPC of its own (ipc "none"). *)
let oc = open_out "/dev/shm/escaped" in let () = close_out oc in ARITH_TAC
