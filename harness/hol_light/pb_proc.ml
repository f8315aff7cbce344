(* Process supervision for the HOL Light check server. Plain OCaml, compiled
   at image build time: constructors such as Unix.WEXITED do not parse under
   HOL Light's camlp5 syntax. The parent never runs untrusted code.

   Each check runs in a child forked from the loaded toplevel. The fork is
   done ahead of time (a "spare" child waiting on a pipe for its request), so
   that the ~10 ms of copying page tables, and the child's exit, happen
   between checks rather than during one. *)

type resource = Cpu | Address_space | File_size | Core

external setrlimit_raw : int -> int -> int -> unit = "pb_setrlimit"

let setrlimit r ~soft ~hard =
  let idx = match r with Cpu -> 0 | Address_space -> 1 | File_size -> 2 | Core -> 3 in
  setrlimit_raw idx soft hard

type limits = {
  wall_s : float;        (* enforced by the parent: SIGKILL at the deadline *)
  cpu_s : int;           (* RLIMIT_CPU in the child: SIGXCPU, then SIGKILL *)
  memory_bytes : int;    (* RLIMIT_AS in the child; <= 0 means none *)
  output_bytes : int;    (* RLIMIT_FSIZE on the captured output file *)
}

(* What a report keeps of the captured output (its start), for messages: the child may print far
   more than this (output_bytes) and still prove its goal. *)
let kept_output_bytes = 65536

type ending =
  | Reported of string          (* the child wrote a result *)
  | Wall_timeout
  | Cpu_timeout
  | Output_limit
  | Signalled of string         (* killed by another signal (its name) *)
  | Exited_silently of int      (* exited without writing a result *)

type report = { ending : ending; wall_used : float; cpu_used : float; output : string }

type spare = { pid : int; request_w : Unix.file_descr; result_r : Unix.file_descr }

let rec restart_on_eintr f x =
  try f x with Unix.Unix_error (Unix.EINTR, _, _) -> restart_on_eintr f x

let write_all fd s =
  let b = Bytes.unsafe_of_string s in
  let rec go off =
    if off < Bytes.length b then go (off + restart_on_eintr (Unix.write fd b off) (Bytes.length b - off)) in
  go 0

let read_all fd =
  let buf = Buffer.create 4096 and chunk = Bytes.create 65536 in
  let rec go () =
    let n = restart_on_eintr (Unix.read fd chunk 0) (Bytes.length chunk) in
    if n > 0 then (Buffer.add_subbytes buf chunk 0 n; go ()) in
  go (); Buffer.contents buf

let read_file_prefix path cap =
  try
    let ic = open_in_bin path in
    let n = min cap (in_channel_length ic) in
    let s = really_input_string ic n in
    close_in ic; s
  with Sys_error _ | End_of_file -> ""

(* Request to a spare: "<wall_ms> <cpu_s> <memory_bytes> <output_bytes> <out_path>\n<body>".
   Result from a child: "<cpu_seconds> <length>\n<payload>". *)
let encode_limits l out_path =
  Printf.sprintf "%d %d %d %d %s\n" (int_of_float (l.wall_s *. 1000.)) l.cpu_s
    l.memory_bytes l.output_bytes out_path

(* When the container runs out of memory, the kernel should kill this check, not
   the loaded toplevel or a walker above it (often larger, and an hour of loading
   to rebuild): the verifier then reports the check as out of memory and retries
   it. Raising one's own score needs no privilege; failing to is harmless. *)
let prefer_to_be_killed () =
  try
    let oc = open_out "/proc/self/oom_score_adj" in
    output_string oc "1000\n"; close_out oc
  with Sys_error _ -> ()

let child_main request_r result_w (work : string -> string) =
  (try
     let request = read_all request_r in
     Unix.close request_r;
     let nl = String.index request '\n' in
     let body = String.sub request (nl + 1) (String.length request - nl - 1) in
     Scanf.sscanf (String.sub request 0 nl) "%d %d %d %d %s"
       (fun _wall_ms cpu_s memory_bytes output_bytes out_path ->
          ignore (Unix.setsid ());
          prefer_to_be_killed ();
          let null = Unix.openfile "/dev/null" [Unix.O_RDONLY] 0 in
          Unix.dup2 null Unix.stdin; Unix.close null;
          let out = Unix.openfile out_path [Unix.O_WRONLY; Unix.O_CREAT; Unix.O_TRUNC] 0o600 in
          Unix.dup2 out Unix.stdout; Unix.dup2 out Unix.stderr; Unix.close out;
          setrlimit Core ~soft:0 ~hard:0;
          setrlimit File_size ~soft:output_bytes ~hard:output_bytes;
          setrlimit Cpu ~soft:cpu_s ~hard:(cpu_s + 1);
          if memory_bytes > 0 then setrlimit Address_space ~soft:memory_bytes ~hard:memory_bytes);
     let payload = work body in
     (try flush stdout; flush stderr with _ -> ());
     let t = Unix.times () in
     write_all result_w (Printf.sprintf "%.6f %d\n%s" (t.Unix.tms_utime +. t.Unix.tms_stime)
                           (String.length payload) payload)
   with _ -> ());
  Unix._exit 0

let fork_spare (work : string -> string) : spare =
  flush stdout; flush stderr;
  let request_r, request_w = Unix.pipe ~cloexec:true () in
  let result_r, result_w = Unix.pipe ~cloexec:true () in
  match Unix.fork () with
  | 0 -> Unix.close request_w; Unix.close result_r; child_main request_r result_w work
  | pid -> Unix.close request_r; Unix.close result_w; { pid; request_w; result_r }

let signal_name sg =
  let names = [Sys.sigabrt, "SIGABRT (the OCaml runtime aborted, e.g. out of memory)";
               Sys.sigsegv, "SIGSEGV"; Sys.sigbus, "SIGBUS"; Sys.sigkill, "SIGKILL";
               Sys.sigterm, "SIGTERM"; Sys.sigfpe, "SIGFPE"; Sys.sigill, "SIGILL"] in
  try List.assoc sg names with Not_found -> "signal " ^ string_of_int sg

(* Children that were killed or finished are reaped lazily, between checks. *)
let pending_reap : int list ref = ref []

let reap_finished () =
  pending_reap := List.filter (fun pid ->
      match Unix.waitpid [Unix.WNOHANG] pid with
      | 0, _ -> true
      | _ -> false
      | exception Unix.Unix_error _ -> false) !pending_reap

(* CPU seconds a live process has used, from /proc (clock ticks of 1/100 s). *)
let proc_cpu_seconds pid =
  try
    let ic = open_in (Printf.sprintf "/proc/%d/stat" pid) in
    let line = input_line ic in
    close_in ic;
    let after_comm = String.sub line (String.rindex line ')' + 2)
        (String.length line - String.rindex line ')' - 2) in
    let fields = Array.of_list (String.split_on_char ' ' after_comm) in
    (* utime and stime are fields 14 and 15 of stat, 12 and 13 after comm. *)
    (float_of_string fields.(11) +. float_of_string fields.(12)) /. 100.
  with _ -> 0.

let decode_result raw =
  match String.index_opt raw '\n' with
  | None -> None
  | Some i ->
    (match String.split_on_char ' ' (String.sub raw 0 i) with
     | [cpu; len] ->
       (match float_of_string_opt cpu, int_of_string_opt len with
        | Some cpu, Some len when len >= 0 && String.length raw - i - 1 = len ->
          Some (cpu, String.sub raw (i + 1) len)
        | _ -> None)
     | _ -> None)

(* Wait for the child's complete result, its end, or the deadline. A complete
   result is taken at once: waiting for the pipe to close would also wait
   for the child's exit, which unmaps the whole toplevel (~10 ms). *)
let read_result fd deadline =
  let buf = Buffer.create 256 and chunk = Bytes.create 65536 in
  let rec loop () =
    let remaining = deadline -. Unix.gettimeofday () in
    if remaining <= 0. then `Timeout else
    match Unix.select [fd] [] [] remaining with
    | [], _, _ -> `Timeout
    | _ ->
      let n = restart_on_eintr (Unix.read fd chunk 0) (Bytes.length chunk) in
      if n = 0 then `Closed (Buffer.contents buf)
      else begin
        Buffer.add_subbytes buf chunk 0 n;
        match decode_result (Buffer.contents buf) with
        | Some (cpu, payload) -> `Result (cpu, payload)
        | None -> loop ()
      end
    | exception Unix.Unix_error (Unix.EINTR, _, _) -> loop ()
  in
  loop ()

(* [while_waiting] runs after the request is sent and before the result is
   awaited: the server forks the next spare there, so that the fork overlaps
   this check (on another core) instead of delaying the next one. *)
let run_on_spare ?(while_waiting = fun () -> ()) (s : spare) (l : limits) ~out_path ~(body : string) : report =
  let t0 = Unix.gettimeofday () in
  let sent =
    try write_all s.request_w (encode_limits l out_path ^ body); true
    with Unix.Unix_error _ -> false in
  Unix.close s.request_w;
  (try while_waiting () with _ -> ());
  let got = if sent then read_result s.result_r (t0 +. l.wall_s) else `Closed "" in
  let wall_used = Unix.gettimeofday () -. t0 in
  let cpu_at_deadline = if got = `Timeout then proc_cpu_seconds s.pid else 0. in
  Unix.close s.result_r;
  (* Kill the whole process group: the child and anything it started. *)
  (try Unix.kill (-s.pid) Sys.sigkill with Unix.Unix_error _ -> ());
  (try Unix.kill s.pid Sys.sigkill with Unix.Unix_error _ -> ());
  let output = read_file_prefix out_path (min l.output_bytes kept_output_bytes) in
  (try Sys.remove out_path with Sys_error _ -> ());
  match got with
  | `Result (cpu, payload) ->
    pending_reap := s.pid :: !pending_reap;
    { ending = Reported payload; wall_used; cpu_used = cpu; output }
  | `Timeout ->
    pending_reap := s.pid :: !pending_reap;
    { ending = Wall_timeout; wall_used; cpu_used = cpu_at_deadline; output }
  | `Closed _ ->
    (* The child ended without a result: wait for it to learn why. *)
    let cpu0 = (Unix.times ()).Unix.tms_cutime +. (Unix.times ()).Unix.tms_cstime in
    let status = snd (restart_on_eintr (Unix.waitpid []) s.pid) in
    let t = Unix.times () in
    let cpu_used = t.Unix.tms_cutime +. t.Unix.tms_cstime -. cpu0 in
    let ending =
      match status with
      | Unix.WSIGNALED sg when sg = Sys.sigxcpu -> Cpu_timeout
      | Unix.WSIGNALED sg when sg = Sys.sigkill && cpu_used >= float_of_int l.cpu_s -> Cpu_timeout
      | Unix.WSIGNALED sg when sg = Sys.sigxfsz -> Output_limit
      | Unix.WSIGNALED sg | Unix.WSTOPPED sg -> Signalled (signal_name sg)
      | Unix.WEXITED c -> Exited_silently c in
    { ending; wall_used; cpu_used; output }

(* A holder is a fork of the server kept at one position of a template (the
   trusted text evaluated so far). It serves checks from that position over a
   pair of pipes, so the server can walk on through the template while checks
   of earlier problems still fork from where they belong. [serve] runs in the
   holder; [forget] closes, in the holder, what belongs to the server only. *)
type holder = { hpid : int; to_holder : Unix.file_descr; from_holder : in_channel }

let fork_holder ~(forget : unit -> unit) (serve : Unix.file_descr -> Unix.file_descr -> unit) : holder =
  flush stdout; flush stderr;
  let req_r, req_w = Unix.pipe ~cloexec:true () in
  let res_r, res_w = Unix.pipe ~cloexec:true () in
  match Unix.fork () with
  | 0 ->
    Unix.close req_w; Unix.close res_r;
    pending_reap := [];
    (try forget () with _ -> ());
    (try serve req_r res_w with _ -> ());
    Unix._exit 0
  | pid ->
    Unix.close req_r; Unix.close res_w;
    { hpid = pid; to_holder = req_w; from_holder = Unix.in_channel_of_descr res_r }

let drop_holder (h : holder) =
  (try Unix.close h.to_holder with Unix.Unix_error _ -> ());
  (try close_in h.from_holder with Sys_error _ -> ());
  (try Unix.kill h.hpid Sys.sigkill with Unix.Unix_error _ -> ());
  pending_reap := h.hpid :: !pending_reap

(* Send one framed request to a holder and read its framed response:
   "<header line>\n<payload>" both ways; None if the holder is gone. *)
let ask_holder (h : holder) (request : string) : string option =
  try
    write_all h.to_holder request;
    let ic = h.from_holder in
    let header = input_line ic in
    let n = int_of_string (List.nth (String.split_on_char ' ' header) 2) in
    let payload = really_input_string ic n in
    ignore (input_char ic);
    Some (header ^ "\n" ^ payload)
  with _ -> None

(* A walker takes over the server's stdin and stdout while the server waits
   at its position. True in the walker; in the server, returns false when the
   walker has ended normally (exit 0) and exits when it died, since the
   client's conversation with it is broken. *)
let fork_walker () : bool =
  flush stdout; flush stderr;
  match Unix.fork () with
  | 0 -> pending_reap := []; true
  | pid ->
    (match snd (restart_on_eintr (Unix.waitpid []) pid) with
     | Unix.WEXITED 0 -> false
     | _ -> exit 3)

(* A walker ends without running the toplevel's exit hooks (the parent's). *)
let end_walker () : unit = Unix._exit 0

(* The places in the container a check can write to. What was there when the server became ready
   stays; whatever a check leaves goes before its answer, so that no later check finds it. *)
let scratch_dirs = [Filename.get_temp_dir_name (); "/dev/mqueue"]
let scratch_kept : string list ref = ref []

let scratch_entries () =
  List.concat_map (fun dir ->
      match Sys.readdir dir with
      | names -> List.map (Filename.concat dir) (Array.to_list names)
      | exception Sys_error _ -> []) scratch_dirs

let record_scratch () = scratch_kept := scratch_entries ()

let scratch_left () = List.filter (fun p -> not (List.mem p !scratch_kept)) (scratch_entries ())

(* By path with coreutils: rm handles any depth, and chmod first opens folders a check made unreadable. *)
let run_quietly argv =
  let null = Unix.openfile "/dev/null" [Unix.O_RDWR] 0 in
  let pid = Unix.create_process argv.(0) argv null null null in
  Unix.close null;
  ignore (Unix.waitpid [] pid)

(* Whether everything a check left is gone. *)
let clear_scratch () =
  match scratch_left () with
  | [] -> true
  | left ->
    (try
       run_quietly (Array.of_list ("/bin/chmod" :: "-R" :: "u+rwx" :: "--" :: left));
       run_quietly (Array.of_list ("/bin/rm" :: "-rf" :: "--" :: left))
     with Unix.Unix_error _ -> ());
    scratch_left () = []
