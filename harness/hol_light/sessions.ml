(* Proof sessions: a goal opened in a fork of the warm toplevel (or of a template position's holder),
   tactics applied one at a time, each in a trial under a check's limits (Pb_trial), the goals that
   remain read back as HOL Light prints them, undo, and theorem search. #use'd by server.ml.

   A session is advice only: nothing here decides a verdict; its proof is checked as any other.

   To the server (or a holder):
     PBSOPEN  <nonce> <sid> <wall_ms> <memory_mb> <goal_bytes>\n<goal>
     PBSOPENK <nonce> <key> <sid> <wall_ms> <memory_mb> <goal_bytes>\n<goal>   (at a held position)
     PBS      <nonce> <sid> <depth> <verb> <wall_ms> <memory_mb> <bytes>\n<payload>
     PBSCLOSE <nonce> <sid>
   verb: step (payload: a tactic), goals, undo (depth: the state to go back to), search (payload:
   "name\n<text>" or "term\n<pattern>"). Each is answered "PBRES <nonce> <n>\n<json>". Along a session's
   chain of processes a request travels as PBN <nonce> <depth> <verb> <wall_ms> <memory_mb> <bytes>. *)

let pb_session_max = 32;;
let pb_search_max = 50;;

(* In a session's process: its state, how many steps it is from the goal, the next state's process. *)
let pb_sess_state : goalstate option ref = ref None;;
let pb_sess_depth = ref 0;;
let pb_sess_child : Pb_proc.holder option ref = ref None;;
let pb_sess_up : (Unix.file_descr * Unix.file_descr) option ref = ref None;;

let pb_sess_fail status reason detail =
  "{\"ok\":false,\"status\":" ^ pb_json_string status ^ ",\"reason\":" ^ pb_json_string reason
  ^ ",\"detail\":" ^ pb_json_string detail ^ "}";;

let pb_goal_json ((asl, w) : goal) : string =
  let hyps = List.map (fun (l, th) ->
      "{\"label\":" ^ pb_json_string l ^ ",\"term\":" ^ pb_json_string (string_of_term (concl th)) ^ "}")
      (List.rev asl) in
  let b = Buffer.create 256 in
  let f = Format.formatter_of_buffer b in
  pp_print_goal f (asl, w);
  Format.pp_print_flush f ();
  "{\"hyps\":[" ^ String.concat "," hyps ^ "],\"goal\":" ^ pb_json_string (string_of_term w)
  ^ ",\"text\":" ^ pb_json_string (Buffer.contents b) ^ "}";;

let pb_sess_ok () : string =
  match !pb_sess_state with
  | None -> pb_sess_fail "ERROR" "no-session" "no state"
  | Some (_, gls, _) ->
    "{\"ok\":true,\"depth\":" ^ string_of_int !pb_sess_depth ^ ",\"goals\":["
    ^ String.concat "," (List.map pb_goal_json gls) ^ "]}";;

(* A trial's work never raises: what went wrong is its report. *)
let pb_sess_guard (work : unit -> string * bool) () : string * bool =
  try work () with
  | Failure msg -> pb_sess_fail "FAIL" "tactic-failed" ("Failure: " ^ msg), false
  | Out_of_memory -> pb_sess_fail "FAIL" "memory-limit" "Out_of_memory", false
  | Stack_overflow -> pb_sess_fail "FAIL" "stack-overflow" "Stack_overflow", false
  | e -> pb_sess_fail "FAIL" "exception" (Printexc.to_string e), false;;

let pb_sess_open_work (goal_text : string) () : string * bool =
  match (try Ok (pb_parse_goal goal_text) with Failure m -> Error m | e -> Error (Printexc.to_string e)) with
  | Error msg -> pb_sess_fail "ERROR" "bad-goal" msg, false
  | Ok goal ->
    if !pb_in_template then pb_shadow_equivalents goal;  (* as a check hides them: search does not see them *)
    pb_sess_state := Some (mk_goalstate ([], goal));
    pb_sess_depth := 0;
    pb_sess_ok (), true;;

let pb_sess_step_work (tactic : string) () : string * bool =
  match !pb_sess_state with
  | None -> pb_sess_fail "ERROR" "no-session" "no state", false
  | Some gs ->
    (match pb_compile_tactic tactic with
     | None -> pb_sess_fail "FAIL" "compile-error" "", false
     | Some thunk ->
       pb_sess_state := Some (by (VALID (thunk ())) gs);
       incr pb_sess_depth;
       pb_sess_ok (), true);;

(* HOL Light's search, by name (a substring) or by a term pattern matched against subterms of each
   theorem's conclusion, over the theorems bound at the toplevel where the session stands. *)
let pb_sess_search_work (payload : string) () : string * bool =
  let kind, text = match String.index_opt payload '\n' with
    | Some i -> String.sub payload 0 i, String.sub payload (i + 1) (String.length payload - i - 1)
    | None -> payload, "" in
  let matches =
    match kind with
    | "name" ->
      let needle = String.lowercase_ascii (String.trim text) in
      let n = String.length needle in
      fun name _ ->
        let hay = String.lowercase_ascii name in
        let rec at i = i + n <= String.length hay && (String.sub hay i n = needle || at (i + 1)) in
        n > 0 && at 0
    | "term" ->
      let pat = parse_term text in
      fun _ th -> can (find_term (can (term_match [] pat))) (concl th)
    | _ -> failwith ("unknown kind of search " ^ String.escaped kind) in
  let env = !Toploop.toplevel_env in
  let found = pb_fold_thm_values (fun name path acc ->
      if List.mem_assoc name acc then acc else
      match (try Some (Obj.obj (Toploop.eval_value_path env path) : thm) with _ -> None) with
      | Some th when matches name th -> (name, th) :: acc
      | _ -> acc) [] in
  let found = List.sort (fun (a, _) (b, _) -> compare a b) found in
  let shown = List.filteri (fun i _ -> i < pb_search_max) found in
  "{\"ok\":true,\"results\":["
  ^ String.concat "," (List.map (fun (n, th) ->
      "{\"name\":" ^ pb_json_string n ^ ",\"statement\":" ^ pb_json_string (string_of_term (concl th)) ^ "}")
      shown)
  ^ "],\"more\":" ^ string_of_int (List.length found - List.length shown) ^ "}", false;;

let pb_sess_close_child () =
  (match !pb_sess_child with Some c -> Pb_trial.drop c | None -> ());
  pb_sess_child := None;;

(* What a trial forked from a session's process closes: that process's own pipes. *)
let pb_sess_node_forget () =
  (match !pb_sess_up with
   | Some (r, w) -> (try Unix.close r with _ -> ()); (try Unix.close w with _ -> ())
   | None -> ());
  (match !pb_sess_child with
   | Some c -> (try Unix.close c.Pb_proc.to_holder with _ -> ()); (try close_in c.Pb_proc.from_holder with _ -> ())
   | None -> ());
  pb_sess_child := None;;

let pb_sess_limits wall_ms memory_mb =
  let wall_s = float_of_int wall_ms /. 1000. in
  { Pb_proc.wall_s = wall_s; cpu_s = max 1 (int_of_float (ceil wall_s));
    memory_bytes = memory_mb * 1024 * 1024; output_bytes = pb_output_cap };;

let pb_sess_out_path () =
  Filename.concat (Filename.get_temp_dir_name ())
    ("pb-session-" ^ string_of_int (Unix.getpid ()) ^ "-" ^ string_of_float (Unix.gettimeofday ()) ^ ".out");;

(* A trial's outcome as a reply: the work's own report, or how the trial ended. *)
let pb_sess_reply (trial : Pb_trial.outcome) : string =
  let body = match trial.Pb_trial.ending with
    | Pb_trial.Kept payload | Pb_trial.Ended payload -> payload
    | Pb_trial.Timeout -> pb_sess_fail "TIMEOUT" "wall-timeout" ""
    | Pb_trial.Cpu_timeout -> pb_sess_fail "TIMEOUT" "cpu-timeout" ""
    | Pb_trial.Output_limit -> pb_sess_fail "FAIL" "output-limit" ""
    | Pb_trial.Signalled name -> pb_sess_fail "FAIL" "crashed" ("killed by " ^ name)
    | Pb_trial.Exited_silently c -> pb_sess_fail "FAIL" "no-result" ("exited with code " ^ string_of_int c) in
  let n = String.length body in
  String.sub body 0 (n - 1) ^ ",\"seconds\":" ^ Printf.sprintf "%.6f" trial.Pb_trial.wall_used
  ^ ",\"output\":" ^ pb_json_string trial.Pb_trial.output ^ "}";;

let rec pb_sess_serve (r : Unix.file_descr) (w : Unix.file_descr) : unit =
  pb_sess_up := Some (r, w);
  pb_sess_child := None;
  let ic = Unix.in_channel_of_descr r and oc = Unix.out_channel_of_descr w in
  let rec loop () =
    match input_line ic with
    | exception End_of_file -> pb_sess_close_child ()  (* the session ended above: so does all after *)
    | line ->
      (match String.split_on_char ' ' (String.trim line) with
       | ["PBN"; nonce; depth; verb; wall_ms; memory_mb; len] ->
         let payload = really_input_string ic (int_of_string len) in
         let depth = int_of_string depth in
         if depth > !pb_sess_depth then
           (match !pb_sess_child with
            | Some c ->
              (match Pb_proc.ask_holder c (line ^ "\n" ^ payload) with
               | Some framed -> output_string oc (framed ^ "\n"); flush oc
               | None -> pb_sess_child := None;
                 pb_frame oc "PBRES" nonce (pb_sess_fail "ERROR" "no-session" "a later state was lost"))
            | None -> pb_frame oc "PBRES" nonce (pb_sess_fail "ERROR" "no-session" "no such state"))
         else if depth < !pb_sess_depth then
           pb_frame oc "PBRES" nonce (pb_sess_fail "ERROR" "no-session" "no such state")
         else pb_frame oc "PBRES" nonce (pb_sess_verb verb (pb_sess_limits (int_of_string wall_ms)
                                                               (int_of_string memory_mb)) payload)
       | _ -> ());
      Pb_proc.reap_finished ();
      loop () in
  loop ()

and pb_sess_verb (verb : string) (limits : Pb_proc.limits) (payload : string) : string =
  let trial work = Pb_trial.run ~forget:pb_sess_node_forget limits ~out_path:(pb_sess_out_path ())
      ~work:(pb_sess_guard work) ~serve:pb_sess_serve in
  match verb with
  | "goals" -> pb_sess_ok ()
  | "undo" -> pb_sess_close_child (); pb_sess_ok ()
  | "search" -> pb_sess_reply (trial (pb_sess_search_work payload))
  | "step" ->
    pb_sess_close_child ();
    let outcome = trial (pb_sess_step_work payload) in
    pb_sess_child := outcome.Pb_trial.node;
    pb_sess_reply outcome
  | _ -> pb_sess_fail "ERROR" "bad-request" ("unknown verb " ^ String.escaped verb);;

(* The server's (or a holder's) sessions: the first process of each, and those held at a position. *)
let pb_sessions : (string, Pb_proc.holder) Hashtbl.t = Hashtbl.create 16;;
let pb_sessions_held : (string, string) Hashtbl.t = Hashtbl.create 16;;

let pb_sessions_forget () =
  Hashtbl.iter (fun _ n ->
      (try Unix.close n.Pb_proc.to_holder with _ -> ());
      (try close_in n.Pb_proc.from_holder with _ -> ())) pb_sessions;
  Hashtbl.reset pb_sessions;
  Hashtbl.reset pb_sessions_held;;

let pb_session_open (forget : unit -> unit) (sid : string) (limits : Pb_proc.limits) (goal : string) : string =
  if Hashtbl.mem pb_sessions sid || Hashtbl.mem pb_sessions_held sid then
    pb_sess_fail "ERROR" "bad-request" ("session " ^ sid ^ " is open already")
  else if Hashtbl.length pb_sessions + Hashtbl.length pb_sessions_held >= pb_session_max then
    pb_sess_fail "ERROR" "too-many-sessions" ("this checker holds " ^ string_of_int pb_session_max ^ " sessions")
  else begin
    let forget () = forget (); pb_sessions_forget () in
    let outcome = Pb_trial.run ~forget limits ~out_path:(pb_sess_out_path ()) ~work:(pb_sess_guard (pb_sess_open_work goal))
        ~serve:pb_sess_serve in
    (match outcome.Pb_trial.node with Some n -> Hashtbl.replace pb_sessions sid n | None -> ());
    pb_sess_reply outcome
  end;;

let pb_session_close (sid : string) : unit =
  (match Hashtbl.find_opt pb_sessions sid with Some n -> Pb_trial.drop n | None -> ());
  Hashtbl.remove pb_sessions sid;;

(* A session request to one of this process's own sessions: passed to its first process. *)
let pb_session_ask (sid : string) (nonce : string) (rest : string list) (payload : string) : string option =
  match Hashtbl.find_opt pb_sessions sid with
  | None -> None
  | Some n ->
    (match Pb_proc.ask_holder n (String.concat " " ("PBN" :: nonce :: rest) ^ "\n" ^ payload) with
     | Some framed -> Some framed
     | None -> pb_session_close sid; None);;

(* The session requests of one line (the server's loop and a holder's loop both answer them); false if
   the line is not one. [forget] closes, in a new session's first process, what the caller owns. *)
let pb_session_line (forget : unit -> unit) (ic : in_channel) (oc : out_channel) (parts : string list) : bool =
  let answer nonce json = pb_frame oc "PBRES" nonce json in
  match parts with
  | ["PBSOPEN"; nonce; sid; wall_ms; memory_mb; len] ->
    let goal = really_input_string ic (int_of_string len) in
    answer nonce (pb_session_open forget sid (pb_sess_limits (int_of_string wall_ms) (int_of_string memory_mb)) goal);
    true
  | ["PBS"; nonce; sid; depth; verb; wall_ms; memory_mb; len] ->
    let payload = really_input_string ic (int_of_string len) in
    (match Hashtbl.find_opt pb_sessions_held sid with
     | Some key ->
       (match Hashtbl.find_opt pb_holders key with
        | Some h ->
          (match Pb_proc.ask_holder h (String.concat " " parts ^ "\n" ^ payload) with
           | Some framed -> output_string oc (framed ^ "\n"); flush oc
           | None -> exit 3)  (* a lost holder is a broken checker *)
        | None -> Hashtbl.remove pb_sessions_held sid; answer nonce (pb_sess_fail "ERROR" "no-session" "position dropped"))
     | None ->
       (match pb_session_ask sid nonce [depth; verb; wall_ms; memory_mb; len] payload with
        | Some framed -> output_string oc (framed ^ "\n"); flush oc
        | None -> answer nonce (pb_sess_fail "ERROR" "no-session" ("no session " ^ sid))));
    true
  | ["PBSCLOSE"; nonce; sid] ->
    (match Hashtbl.find_opt pb_sessions_held sid, Hashtbl.find_opt pb_holders
             (Option.value ~default:"" (Hashtbl.find_opt pb_sessions_held sid)) with
     | Some _, Some h -> ignore (Pb_proc.ask_holder h (String.concat " " parts ^ "\n"))
     | _ -> pb_session_close sid);
    Hashtbl.remove pb_sessions_held sid;
    answer nonce "{\"ok\":true}";
    true
  | ["PBSOPENK"; nonce; key; sid; wall_ms; memory_mb; len] ->
    let goal = really_input_string ic (int_of_string len) in
    (match Hashtbl.find_opt pb_holders key with
     | None -> answer nonce (pb_sess_fail "ERROR" "server-exception" ("no context is held at position " ^ key))
     | Some h ->
       let request = String.concat " " ["PBSOPEN"; nonce; sid; wall_ms; memory_mb; len] ^ "\n" ^ goal in
       (match Pb_proc.ask_holder h request with
        | Some framed ->
          let body = match String.index_opt framed '\n' with
            | Some i -> String.sub framed (i + 1) (String.length framed - i - 1) | None -> "" in
          let opened = String.length body >= 10 && String.sub body 0 10 = "{\"ok\":true" in
          if opened then Hashtbl.replace pb_sessions_held sid key;
          output_string oc (framed ^ "\n"); flush oc
        | None -> exit 3));
    true
  | _ -> false;;
