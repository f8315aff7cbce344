(* What a forked child does with one check (harness/hol_light/server.ml forks it): the goal read or
   computed, earlier theorems equal to it hidden in a template, the proof compiled and run, the result
   judged, and the report the server turns into its reply. #use'd by server.ml, in the same toplevel. *)

let pb_tactic_slot : (unit -> tactic) option ref = ref None;;

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

(* A child's report: "<status> <reason> <goal bytes> <proof seconds>\n<goal><detail>", the goal being the
   computed one and the seconds the CPU time the proof itself ran ("-" if it never ran). *)
let pb_proof_started : float option ref = ref None;;

let pb_result ?(goal = "") status reason detail =
  let proof_s = match !pb_proof_started with
    | Some t0 -> Printf.sprintf "%.6f" (Sys.time () -. t0)
    | None -> "-" in
  status ^ " " ^ reason ^ " " ^ string_of_int (String.length goal) ^ " " ^ proof_s ^ "\n" ^ goal ^ detail;;

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
      (* From here on is what s2n-bignum-bench's own times measure (its PROFILE line): the tactic built,
         then proved; not the parsing, the hiding of equal theorems or the compiling before it. *)
      pb_proof_started := Some (Sys.time ());
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
