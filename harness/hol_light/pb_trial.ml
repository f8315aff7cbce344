(* Trials: the process side of proof sessions (harness/hol_light/sessions.ml). Plain OCaml, compiled
   at image build time beside pb_proc.ml, whose limits and helpers it uses.

   A session is a chain of processes, each holding one state of the proof: a step forks a trial from
   the newest one, under the same limits as a check; the trial applies the tactic and reports, and only
   if the step succeeded does it stay, as the newest state, serving requests from the process it was
   forked from. A step that fails, times out or crashes leaves nothing: the state it was tried on is
   still the newest. Undo ends the newest process. A process whose parent goes away (its request pipe
   reaches end of file) ends, so ending a session's first process ends all of it. *)

open Pb_proc

type ending =
  | Kept of string          (* the work succeeded: its report, and the trial now serves as a node *)
  | Ended of string         (* the work reported, and the trial ended *)
  | Timeout
  | Cpu_timeout
  | Output_limit
  | Signalled of string
  | Exited_silently of int

type outcome = { ending : ending; node : holder option; wall_used : float; output : string }

(* The CPU limit a kept trial keeps as its hard limit: its own soft limit is lifted once it is kept,
   so that a node's own small use (relaying, forking) never ends it, and each trial it forks sets
   its own soft limit again, below this. *)
let node_cpu_hard_s = 24 * 3600

(* In the child: limits and captured output as a check's, then [work]; its report is framed as
   "<K|E> <length>\n<payload>" (K: kept). A kept trial then serves [serve] over its pipes. *)
let trial_main l out_path req_r res_w work serve =
  (try
     ignore (Unix.setsid ());
     let null = Unix.openfile "/dev/null" [Unix.O_RDONLY] 0 in
     Unix.dup2 null Unix.stdin; Unix.close null;
     let out = Unix.openfile out_path [Unix.O_WRONLY; Unix.O_CREAT; Unix.O_TRUNC] 0o600 in
     Unix.dup2 out Unix.stdout; Unix.dup2 out Unix.stderr; Unix.close out;
     setrlimit Core ~soft:0 ~hard:0;
     setrlimit File_size ~soft:l.output_bytes ~hard:l.output_bytes;
     setrlimit Cpu ~soft:l.cpu_s ~hard:node_cpu_hard_s;
     if l.memory_bytes > 0 then setrlimit Address_space ~soft:l.memory_bytes ~hard:l.memory_bytes;
     let payload, keep = work () in
     (try flush stdout; flush stderr with _ -> ());
     write_all res_w (Printf.sprintf "%s %d\n%s" (if keep then "K" else "E") (String.length payload) payload);
     if keep then begin
       setrlimit Cpu ~soft:node_cpu_hard_s ~hard:node_cpu_hard_s;
       serve req_r res_w
     end
   with _ -> ());
  Unix._exit 0

let decode raw =
  match String.index_opt raw '\n' with
  | None -> None
  | Some i ->
    (match String.split_on_char ' ' (String.sub raw 0 i) with
     | [kind; len] ->
       (match int_of_string_opt len with
        | Some len when len >= 0 && String.length raw - i - 1 = len ->
          Some (kind = "K", String.sub raw (i + 1) len)
        | _ -> None)
     | _ -> None)

let read_report fd deadline =
  let buf = Buffer.create 256 and chunk = Bytes.create 65536 in
  let rec loop () =
    let remaining = deadline -. Unix.gettimeofday () in
    if remaining <= 0. then `Timeout else
    match Unix.select [fd] [] [] remaining with
    | [], _, _ -> `Timeout
    | _ ->
      let n = restart_on_eintr (Unix.read fd chunk 0) (Bytes.length chunk) in
      if n = 0 then `Closed
      else begin
        Buffer.add_subbytes buf chunk 0 n;
        match decode (Buffer.contents buf) with
        | Some r -> `Report r
        | None -> loop ()
      end
    | exception Unix.Unix_error (Unix.EINTR, _, _) -> loop ()
  in
  loop ()

let kill_group pid =
  (try Unix.kill (-pid) Sys.sigkill with Unix.Unix_error _ -> ());
  (try Unix.kill pid Sys.sigkill with Unix.Unix_error _ -> ())

(* Fork a trial of [work] under [l]. [forget] runs first in the child: it closes what belongs to the
   process forking it (its own request pipe, other sessions' pipes), so that their ends of file still
   come when their owners go. *)
let run ~(forget : unit -> unit) (l : limits) ~out_path ~(work : unit -> string * bool)
    ~(serve : Unix.file_descr -> Unix.file_descr -> unit) : outcome =
  flush stdout; flush stderr;
  let req_r, req_w = Unix.pipe ~cloexec:true () in
  let res_r, res_w = Unix.pipe ~cloexec:true () in
  let t0 = Unix.gettimeofday () in
  match Unix.fork () with
  | 0 ->
    Unix.close req_w; Unix.close res_r;
    pending_reap := [];
    (try forget () with _ -> ());
    trial_main l out_path req_r res_w work serve
  | pid ->
    Unix.close req_r; Unix.close res_w;
    let got = read_report res_r (t0 +. l.wall_s) in
    let wall_used = Unix.gettimeofday () -. t0 in
    let output = read_file_prefix out_path (min l.output_bytes kept_output_bytes) in
    (try Sys.remove out_path with Sys_error _ -> ());
    let gone ending =
      Unix.close req_w; Unix.close res_r;
      kill_group pid;
      pending_reap := pid :: !pending_reap;
      { ending; node = None; wall_used; output } in
    match got with
    | `Report (true, payload) ->
      { ending = Kept payload; wall_used; output;
        node = Some { hpid = pid; to_holder = req_w; from_holder = Unix.in_channel_of_descr res_r } }
    | `Report (false, payload) -> gone (Ended payload)
    | `Timeout -> gone Timeout
    | `Closed ->
      Unix.close req_w; Unix.close res_r;
      let status = snd (restart_on_eintr (Unix.waitpid []) pid) in
      let ending =
        match status with
        | Unix.WSIGNALED sg when sg = Sys.sigxcpu -> Cpu_timeout
        | Unix.WSIGNALED sg when sg = Sys.sigxfsz -> Output_limit
        | Unix.WSIGNALED sg | Unix.WSTOPPED sg -> Signalled (signal_name sg)
        | Unix.WEXITED c -> Exited_silently c in
      kill_group pid;
      { ending; node = None; wall_used; output }

(* End a node: its process group, and (by end of file) every node after it. *)
let drop (n : holder) =
  (try Unix.close n.to_holder with Unix.Unix_error _ -> ());
  (try close_in n.from_holder with Sys_error _ -> ());
  kill_group n.hpid;
  pending_reap := n.hpid :: !pending_reap
