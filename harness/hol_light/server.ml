(* provebench HOL Light check server, loaded with #use into a HOL Light
   toplevel after hol.ml (and after the suite's trusted context).

   Protocol on stdin/stdout (the parent's channels; a check never writes to
   them because its child's output is redirected to a capture file):
     request : "PBREQ <nonce> <wall_ms> <memory_mb> <goal_bytes> <proof_bytes>\n"
               followed by the goal text and the proof text, raw; the goal text's
               first line says what it is ("term", or "expression" for a goal computed
               at run time).
     response: "PBRES <nonce> <n>\n" followed by n bytes of JSON.
   The nonce is chosen per request by the client, so nothing a proof prints
   can be taken for a response. The client adds this folder to the load path
   (#directory) before #use-ing this file. *)

#directory "+unix";;
#load "unix.cma";;
#load "pb_proc.cma";;

let pb_tactic_slot : (unit -> tactic) option ref = ref None;;

let pb_json_string (s : string) : string =
  let b = Buffer.create (String.length s + 2) in
  Buffer.add_char b '"';
  String.iter (fun c ->
      match c with
      | '"' -> Buffer.add_string b "\\\""
      | '\\' -> Buffer.add_string b "\\\\"
      | '\n' -> Buffer.add_string b "\\n"
      | c when Char.code c < 0x20 || Char.code c = 0x7f ->
        Buffer.add_string b (Printf.sprintf "\\u%04x" (Char.code c))
      | c -> Buffer.add_char b c) s;
  Buffer.add_char b '"';
  Buffer.contents b;;

(* The proof is one OCaml expression of type tactic. It is parsed by the
   toplevel's own parser (so term quotations work as in a proof script) and
   must come out as a single expression phrase: the wrapper is trusted text,
   the proof sits inside parentheses, and anything that would close them and
   add phrases is refused here as well as by provebench's static vetting.
   The phrase only compiles the proof into a thunk: evaluating it happens
   later under pb_check_in_child's handlers, so a proof that runs out of
   memory or stack is told apart from one that does not compile. *)
let pb_compile_tactic (proof : string) : (unit -> tactic) option =
  pb_tactic_slot := None;
  (* The line directive numbers the proof's first line 1 in messages (camlp5's parser counts lines
     itself, from the start of the text: setting the lexbuf's line number has no effect). *)
  let text = "pb_tactic_slot := Some (fun () -> ((\n# 1 \"proof\"\n" ^ proof ^ "\n) : tactic))" in
  let result =
    try
      let lexbuf = Lexing.from_string text in
      Lexing.set_filename lexbuf "proof";
      Location.input_lexbuf := Some lexbuf;
      Location.input_name := "proof";
      match !Toploop.parse_use_file lexbuf with
      | [Parsetree.Ptop_def [{ Parsetree.pstr_desc = Parsetree.Pstr_eval _; _ }] as phrase] ->
        if Toploop.execute_phrase false Format.err_formatter phrase then !pb_tactic_slot
        else None
      | _ -> Format.eprintf "the proof is not a single tactic expression@."; None
    with e -> (try Location.report_exception Format.err_formatter e with _ -> ()); None in
  Format.pp_print_flush Format.err_formatter ();
  result;;

(* A child's report: "<status> <reason> <goal bytes>\n<goal><detail>", the goal being the computed one. *)
let pb_result ?(goal = "") status reason detail =
  status ^ " " ^ reason ^ " " ^ string_of_int (String.length goal) ^ "\n" ^ goal ^ detail;;

let pb_goal_slot : term option ref = ref None;;

(* A goal computed at run time (s2n-bignum-bench's "(rand o concl o CONV) `...`"): the suite's trusted
   OCaml expression of type term, evaluated in the child, so that whatever it does ends with the child,
   and before any of the proof is read. *)
let pb_eval_goal_expression (text : string) : term =
  pb_goal_slot := None;
  let src = "pb_goal_slot := Some ((\n# 1 \"goal\"\n" ^ text ^ "\n) : term)" in
  let b = Buffer.create 256 in
  let f = Format.formatter_of_buffer b in
  let ok =
    try
      let lexbuf = Lexing.from_string src in
      Location.input_lexbuf := Some lexbuf;
      Location.input_name := "goal";
      List.for_all (fun ph -> Toploop.execute_phrase false f ph) (!Toploop.parse_use_file lexbuf)
    with e -> (try Location.report_exception f e with _ -> Format.pp_print_string f (Printexc.to_string e)); false in
  Format.pp_print_flush f ();
  match ok, !pb_goal_slot with
  | true, Some tm -> tm
  | _ -> failwith ("the goal expression gave no term: " ^ String.trim (Buffer.contents b));;

(* The goal's text comes after a line saying what it is: "term" (a term's text) or "expression". *)
let pb_parse_goal (text : string) : term =
  let kind, body =
    match String.index_opt text '\n' with
    | Some i -> String.sub text 0 i, String.sub text (i + 1) (String.length text - i - 1)
    | None -> "", text in
  let tm =
    match kind with
    | "term" -> parse_term body
    | "expression" -> pb_eval_goal_expression body
    | _ -> failwith ("unknown kind of goal " ^ String.escaped kind) in
  if type_of tm <> bool_ty then failwith ("the goal is not a boolean term: " ^ string_of_term tm);
  tm;;

(* The goal as the child saw it, reported for goals computed at run time (a verdict records it). *)
let pb_computed_goal (text : string) (goal : term) : string =
  if String.length text >= 11 && String.sub text 0 11 = "expression\n" then string_of_term goal else "";;

(* The toplevel values bound before any template text: theorems a template
   binds later are the ones a template problem's duplicate-location hole is about. *)
let pb_base_paths : (Path.t, unit) Hashtbl.t = Hashtbl.create 8192;;
let pb_in_template = ref false;;

let pb_fold_thm_values (f : string -> Path.t -> 'a -> 'a) (acc : 'a) : 'a =
  let env = !Toploop.toplevel_env in
  Env.fold_values (fun name path vd acc ->
      match Types.get_desc vd.Types.val_type with
      | Types.Tconstr (p, [], _) when Path.last p = "thm" -> f name path acc
      | _ -> acc) None env acc;;

let pb_record_base_env () =
  let env = !Toploop.toplevel_env in
  Env.fold_values (fun _ path _ () -> Hashtbl.replace pb_base_paths path ()) None env ();;

(* In a template, an earlier theorem alpha-equivalent to the goal must not be
   the answer: its name is rebound to () in the child before the proof is
   compiled, so using it is a type error. *)
let pb_shadow_equivalents (goal : term) : unit =
  let env = !Toploop.toplevel_env in
  let names = pb_fold_thm_values (fun name path acc ->
      if Hashtbl.mem pb_base_paths path || List.mem name acc then acc else
      match (try Some (Obj.obj (Toploop.eval_value_path env path) : thm) with _ -> None) with
      | Some th when aconv (concl th) goal -> name :: acc
      | _ -> acc) [] in
  if names <> [] then begin
    let text = "let " ^ String.concat " and " (List.map (fun n -> n ^ " = ()") names) ^ ";;" in
    List.iter (fun ph ->
        if not (Toploop.execute_phrase false Format.err_formatter ph) then failwith "rebinding failed")
      (!Toploop.parse_use_file (Lexing.from_string text))
  end;;

(* Runs in the forked child only. The goal is parsed and the axiom list is
   captured before any of the proof text is evaluated. *)
let pb_check_in_child (goal_text : string) (proof : string) : string =
  match (try Ok (pb_parse_goal goal_text) with Failure m -> Error m | e -> Error (Printexc.to_string e)) with
  | Error msg -> pb_result "ERROR" "bad-goal" msg
  | Ok goal ->
  let pb_result = pb_result ~goal:(pb_computed_goal goal_text goal) in
  (* Fail closed: if the equal earlier theorems cannot be hidden, nothing is checked. *)
  match (if !pb_in_template then (try pb_shadow_equivalents goal; None with e -> Some (Printexc.to_string e))
         else None) with
  | Some msg -> pb_result "ERROR" "server-exception" ("could not hide earlier theorems equal to the goal: " ^ msg)
  | None ->
  let axioms0 = axioms () in
  try
    match pb_compile_tactic proof with
    | None -> pb_result "FAIL" "compile-error" ""
    | Some thunk ->
      let tac = thunk () in
      let _, subgoals, justify = by tac (mk_goalstate ([], goal)) in
      if subgoals <> [] then
        pb_result "FAIL" "unsolved-goals"
          (string_of_int (length subgoals) ^ " goal(s) left; first: "
           ^ string_of_term (snd (hd subgoals)))
      else
        let th = justify null_inst [] in
        if not (axioms () == axioms0) then
          pb_result "CHEATING" "new-axiom" "the axiom list changed during the proof"
        else if hyp th <> [] then
          pb_result "CHEATING" "hypotheses"
            ("the theorem has hypotheses: " ^ String.concat ", " (map string_of_term (hyp th)))
        else if not (aconv (concl th) goal) then
          pb_result "CHEATING" "statement-mismatch" ("proved " ^ string_of_term (concl th))
        else pb_result "PASS" "proved" ""
  with
  | Failure msg -> pb_result "FAIL" "tactic-failed" ("Failure: " ^ msg)
  | Out_of_memory -> pb_result "FAIL" "memory-limit" "Out_of_memory"
  | Stack_overflow -> pb_result "FAIL" "stack-overflow" "Stack_overflow"
  | e -> pb_result "FAIL" "exception" (Printexc.to_string e);;

(* Body sent to a spare child: "<goal bytes>\n<goal><proof>". *)
let pb_child_work (body : string) : string =
  let nl = String.index body '\n' in
  let goal_len = int_of_string (String.sub body 0 nl) in
  let goal = String.sub body (nl + 1) goal_len in
  let proof = String.sub body (nl + 1 + goal_len) (String.length body - nl - 1 - goal_len) in
  pb_check_in_child goal proof;;

(* What a check may print before it is stopped (output-limit). Tactics print progress: s2n-bignum's
   CORE_INV_P256_CORRECT prints "Stepping to state" and "CPU time" lines past 64 KB and proves its goal.
   The file is on the container's /tmp (256 MB tmpfs), charged to its memory. *)
let pb_output_cap = 16 * 1024 * 1024;;
let pb_spare : Pb_proc.spare option ref = ref None;;

let pb_prepare_spare () =
  Pb_proc.reap_finished ();
  if !pb_spare = None then pb_spare := Some (Pb_proc.fork_spare pb_child_work);;

let pb_handle (wall_ms : int) (memory_mb : int) (goal : string) (proof : string) : string =
  pb_prepare_spare ();
  let spare = Option.get !pb_spare in
  pb_spare := None;
  let wall_s = float_of_int wall_ms /. 1000. in
  let limits = { Pb_proc.wall_s = wall_s;
                 cpu_s = max 1 (int_of_float (ceil wall_s));
                 memory_bytes = memory_mb * 1024 * 1024;
                 output_bytes = pb_output_cap } in
  let out_path = Filename.concat (Filename.get_temp_dir_name ())
      ("pb-check-" ^ string_of_int spare.Pb_proc.pid ^ ".out") in
  let body = string_of_int (String.length goal) ^ "\n" ^ goal ^ proof in
  let r = Pb_proc.run_on_spare ~while_waiting:pb_prepare_spare spare limits ~out_path ~body in
  let status, reason, goal, detail =
    match r.Pb_proc.ending with
    | Pb_proc.Reported payload ->
      (match String.index_opt payload '\n' with
       | Some i ->
         (match String.split_on_char ' ' (String.sub payload 0 i) with
          | [s; rs; gl] ->
            (match int_of_string_opt gl with
             | Some n when n >= 0 && i + 1 + n <= String.length payload ->
               s, rs, String.sub payload (i + 1) n,
               String.sub payload (i + 1 + n) (String.length payload - i - 1 - n)
             | _ -> "ERROR", "bad-child-report", "", payload)
          | _ -> "ERROR", "bad-child-report", "", payload)
       | None -> "ERROR", "bad-child-report", "", payload)
    | Pb_proc.Wall_timeout -> "TIMEOUT", "wall-timeout", "", ""
    | Pb_proc.Cpu_timeout -> "TIMEOUT", "cpu-timeout", "", ""
    | Pb_proc.Output_limit -> "FAIL", "output-limit", "", ""
    | Pb_proc.Signalled name -> "FAIL", "crashed", "", "killed by " ^ name
    | Pb_proc.Exited_silently c ->
      "FAIL", "no-result", "", "exited with code " ^ string_of_int c ^ " before reporting" in
  "{\"status\":" ^ pb_json_string status ^ ",\"reason\":" ^ pb_json_string reason
  ^ ",\"goal\":" ^ pb_json_string goal
  ^ ",\"detail\":" ^ pb_json_string detail ^ ",\"output\":" ^ pb_json_string r.Pb_proc.output
  ^ ",\"wall_seconds\":" ^ Printf.sprintf "%.6f" r.Pb_proc.wall_used
  ^ ",\"cpu_seconds\":" ^ Printf.sprintf "%.6f" r.Pb_proc.cpu_used ^ "}";;

let pb_frame (oc : out_channel) (kind : string) (nonce : string) (payload : string) : unit =
  output_string oc (kind ^ " " ^ nonce ^ " " ^ string_of_int (String.length payload) ^ "\n" ^ payload ^ "\n");
  flush oc;;

let pb_answer_check oc nonce wall_ms memory_mb goal proof =
  let response =
    try pb_handle wall_ms memory_mb goal proof
    with e -> "{\"status\":\"ERROR\",\"reason\":\"server-exception\",\"detail\":"
              ^ pb_json_string (Printexc.to_string e) ^ "}" in
  pb_frame oc "PBRES" nonce response;;

(* The fields of a request line after its kind, then the goal and proof texts. *)
let pb_read_check (ic : in_channel) (goal_len : string) (proof_len : string) : string * string =
  let goal = really_input_string ic (int_of_string goal_len) in
  let proof = really_input_string ic (int_of_string proof_len) in
  goal, proof;;

(* Checks only, from one position: what a holder serves over its pipes. *)
let rec pb_check_loop (ic : in_channel) (oc : out_channel) : unit =
  match input_line ic with
  | exception End_of_file -> ()
  | line ->
    (match String.split_on_char ' ' (String.trim line) with
     | ["PBREQ"; nonce; wall_ms; memory_mb; goal_len; proof_len] ->
       let goal, proof = pb_read_check ic goal_len proof_len in
       pb_answer_check oc nonce (int_of_string wall_ms) (int_of_string memory_mb) goal proof
     | _ -> ());
    pb_check_loop ic oc;;

(* Template mode. A walker (see PBWALK below) goes forward through a template
   (trusted text, sent in slices with PBSEEK) and checks from where it stands
   (PBREQ); before moving on from a problem's position it may leave a holder,
   a fork kept there (PBHOLD; PBDROP ends one), so that a later check of that
   problem forks from the right place (PBREQK names it). *)
let pb_holders : (string, Pb_proc.holder) Hashtbl.t = Hashtbl.create 16;;

let pb_drop_spare () =
  (match !pb_spare with
   | Some sp ->
     (try Unix.close sp.Pb_proc.request_w with _ -> ());
     (try Unix.close sp.Pb_proc.result_r with _ -> ());
     Pb_proc.pending_reap := sp.Pb_proc.pid :: !Pb_proc.pending_reap
   | None -> ());
  pb_spare := None;;

let pb_drop_holder (key : string) : unit =
  match Hashtbl.find_opt pb_holders key with
  | Some h -> Pb_proc.drop_holder h; Hashtbl.remove pb_holders key
  | None -> ();;

let pb_hold (key : string) : unit =
  pb_drop_holder key;
  let others = Hashtbl.fold (fun _ h acc -> h :: acc) pb_holders [] in
  let forget () =
    List.iter (fun h ->
        (try Unix.close h.Pb_proc.to_holder with _ -> ());
        (try close_in h.Pb_proc.from_holder with _ -> ())) others;
    Hashtbl.reset pb_holders;
    pb_drop_spare () in
  let serve r w =
    pb_in_template := true;
    pb_prepare_spare ();
    pb_check_loop (Unix.in_channel_of_descr r) (Unix.out_channel_of_descr w) in
  Hashtbl.replace pb_holders key (Pb_proc.fork_holder ~forget serve);;

(* Evaluate a slice of the template in the server itself, phrase by phrase. *)
let pb_seek (text : string) : string =
  pb_drop_spare ();
  let t0 = Unix.gettimeofday () in
  let ok =
    try
      let lexbuf = Lexing.from_string text in
      Location.input_lexbuf := Some lexbuf;
      Location.input_name := "template";
      List.iter (fun phrase ->
          if not (Toploop.execute_phrase false Format.err_formatter phrase) then
            failwith "a phrase of the template did not evaluate")
        (!Toploop.parse_use_file lexbuf);
      None
    with e ->
      let b = Buffer.create 256 in
      let f = Format.formatter_of_buffer b in
      (try Location.report_exception f e with _ -> Format.pp_print_string f (Printexc.to_string e));
      Format.pp_print_flush f ();
      Some (Buffer.contents b) in
  Format.pp_print_flush Format.err_formatter ();
  flush stdout;
  let seconds = Printf.sprintf "%.6f" (Unix.gettimeofday () -. t0) in
  match ok with
  | None -> "{\"ok\":true,\"seconds\":" ^ seconds ^ "}"
  | Some msg -> "{\"ok\":false,\"seconds\":" ^ seconds ^ ",\"error\":" ^ pb_json_string msg ^ "}";;

(* Walkers. A template group shares its leading text (s2n-bignum's base.ml),
   so the process at a fork point forks a walker (PBWALK) and waits; the
   walker serves stdin/stdout from there on, going further into one template.
   PBEND ends it and the parent serves again, still at the fork point. The
   parent reads nothing while it waits, so no request is read twice; a walker
   that dies without PBEND is a broken checker. *)
let pb_walk_depth = ref 0;;

let pb_walk (nonce : string) : unit =
  pb_drop_spare ();
  if Pb_proc.fork_walker () then begin
    incr pb_walk_depth;
    pb_in_template := true;  (* a walker checks from where it stands in a template *)
    pb_frame stdout "PBACK" nonce "{\"ok\":true,\"seconds\":0}"
  end;;

let pb_end_walk (nonce : string) : unit =
  if !pb_walk_depth = 0 then
    pb_frame stdout "PBACK" nonce "{\"ok\":false,\"seconds\":0,\"error\":\"no walker to end\"}"
  else begin
    pb_frame stdout "PBACK" nonce "{\"ok\":true,\"seconds\":0}";
    Pb_proc.end_walker ()
  end;;

let pb_serve (ready_nonce : string) : unit =
  let info = "{\"hol_version\":" ^ pb_json_string hol_version
             ^ ",\"ocaml_version\":" ^ pb_json_string Sys.ocaml_version
             ^ ",\"axioms\":" ^ string_of_int (length (axioms ())) ^ "}" in
  (* Tactics' progress chatter (MESON's "solved at") is not a checker message. *)
  verbose := false;
  pb_record_base_env ();
  Gc.compact ();
  pb_prepare_spare ();
  print_string ("\nPBREADY " ^ ready_nonce ^ " " ^ string_of_int (String.length info) ^ "\n" ^ info ^ "\n");
  flush stdout;
  let rec loop () =
    match input_line stdin with
    | exception End_of_file -> ()
    | line ->
      (match String.split_on_char ' ' (String.trim line) with
       | ["PBREQ"; nonce; wall_ms; memory_mb; goal_len; proof_len] ->
         let goal, proof = pb_read_check stdin goal_len proof_len in
         pb_answer_check stdout nonce (int_of_string wall_ms) (int_of_string memory_mb) goal proof
       | ["PBSEEK"; nonce; text_len] ->
         let text = really_input_string stdin (int_of_string text_len) in
         pb_frame stdout "PBACK" nonce (pb_seek text)
       | ["PBWALK"; nonce] -> pb_walk nonce
       | ["PBEND"; nonce] -> pb_end_walk nonce
       | ["PBDROP"; nonce; key] ->
         pb_drop_holder key;
         pb_frame stdout "PBACK" nonce "{\"ok\":true,\"seconds\":0}"
       | ["PBHOLD"; nonce; key] ->
         pb_hold key;
         pb_frame stdout "PBACK" nonce "{\"ok\":true,\"seconds\":0}"
       | ["PBREQK"; nonce; key; wall_ms; memory_mb; goal_len; proof_len] ->
         let goal, proof = pb_read_check stdin goal_len proof_len in
         (match Hashtbl.find_opt pb_holders key with
          | None ->
            pb_frame stdout "PBRES" nonce
              ("{\"status\":\"ERROR\",\"reason\":\"server-exception\",\"detail\":"
               ^ pb_json_string ("no context is held at position " ^ key) ^ "}")
          | Some h ->
            let request = String.concat " " ["PBREQ"; nonce; wall_ms; memory_mb; goal_len; proof_len]
                          ^ "\n" ^ goal ^ proof in
            (match Pb_proc.ask_holder h request with
             | Some framed -> print_string (framed ^ "\n"); flush stdout
             (* A lost holder is a broken checker: exit, and the client starts a new one. *)
             | None -> exit 3))
       | _ -> ());
      loop () in
  loop ();;
