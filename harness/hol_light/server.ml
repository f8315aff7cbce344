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

(* The child's side of a check; found on the load path, this folder. *)
#use "check_child.ml";;

(* What a check may print before it is stopped (output-limit). Tactics print progress: s2n-bignum's
   CORE_INV_P256_CORRECT prints "Stepping to state" and "CPU time" lines past 64 KB and proves its goal.
   The file is on the container's /tmp (256 MB tmpfs), charged to its memory. *)
let pb_output_cap = 16 * 1024 * 1024;;
let pb_spare : Pb_proc.spare option ref = ref None;;

let pb_prepare_spare () =
  Pb_proc.reap_finished ();
  if !pb_spare = None then pb_spare := Some (Pb_proc.fork_spare pb_child_work);;

(* Set when what a check left (in /tmp, /dev/mqueue: Pb_proc.clear_scratch) could not be removed: the
   server answers that check, then exits, so that the client starts a clean checker (an infrastructure
   event, never the check's verdict). The client runs checkers with no /dev/shm. *)
let pb_tainted = ref false;;

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
  if not (Pb_proc.clear_scratch ()) then pb_tainted := true;
  let status, reason, goal, detail, proof_s =
    match r.Pb_proc.ending with
    | Pb_proc.Reported payload ->
      (match String.index_opt payload '\n' with
       | Some i ->
         (match String.split_on_char ' ' (String.sub payload 0 i) with
          | [s; rs; gl; ps] ->
            let proof_s = if ps = "-" then Some None else Option.map Option.some (float_of_string_opt ps) in
            (match int_of_string_opt gl, proof_s with
             | Some n, Some proof_s when n >= 0 && i + 1 + n <= String.length payload ->
               s, rs, String.sub payload (i + 1) n,
               String.sub payload (i + 1 + n) (String.length payload - i - 1 - n), proof_s
             | _ -> "ERROR", "bad-child-report", "", payload, None)
          | _ -> "ERROR", "bad-child-report", "", payload, None)
       | None -> "ERROR", "bad-child-report", "", payload, None)
    | Pb_proc.Wall_timeout -> "TIMEOUT", "wall-timeout", "", "", None
    | Pb_proc.Cpu_timeout -> "TIMEOUT", "cpu-timeout", "", "", None
    | Pb_proc.Output_limit -> "FAIL", "output-limit", "", "", None
    | Pb_proc.Signalled name -> "FAIL", "crashed", "", "killed by " ^ name, None
    | Pb_proc.Exited_silently c ->
      "FAIL", "no-result", "", "exited with code " ^ string_of_int c ^ " before reporting", None in
  "{\"status\":" ^ pb_json_string status ^ ",\"reason\":" ^ pb_json_string reason
  ^ ",\"goal\":" ^ pb_json_string goal
  ^ ",\"proof_seconds\":" ^ (match proof_s with Some t -> Printf.sprintf "%.6f" t | None -> "null")
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
  pb_frame oc "PBRES" nonce response;
  if !pb_tainted then exit 3;;

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

(* Proof sessions (PBSOPEN, PBS, PBSCLOSE, PBSOPENK); found on the load path, this folder. *)
#use "sessions.ml";;

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
     | parts ->
       (* A session opened here forgets this holder's own pipes and spare. *)
       let forget () =
         (try Unix.close (Unix.descr_of_in_channel ic) with _ -> ());
         (try Unix.close (Unix.descr_of_out_channel oc) with _ -> ());
         pb_drop_spare () in
       ignore (pb_session_line forget ic oc parts));
    pb_check_loop ic oc;;

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
    pb_sessions_forget ();
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

(* What a session's first process, forked from the server (or a walker), closes: the server's spare and
   holders; the other sessions' pipes are closed by pb_session_line. Its stdin and stdout are replaced. *)
let pb_server_forget () =
  Hashtbl.iter (fun _ h ->
      (try Unix.close h.Pb_proc.to_holder with _ -> ());
      (try close_in h.Pb_proc.from_holder with _ -> ())) pb_holders;
  Hashtbl.reset pb_holders;
  pb_drop_spare ();;

let pb_serve (ready_nonce : string) : unit =
  let info = "{\"hol_version\":" ^ pb_json_string hol_version
             ^ ",\"ocaml_version\":" ^ pb_json_string Sys.ocaml_version
             ^ ",\"axioms\":" ^ string_of_int (length (axioms ())) ^ "}" in
  (* Tactics' progress chatter (MESON's "solved at") is not a checker message. *)
  verbose := false;
  pb_record_base_env ();
  Pb_proc.record_scratch ();
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
       | parts -> ignore (pb_session_line pb_server_forget stdin stdout parts));
      loop () in
  loop ();;
