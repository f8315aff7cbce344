(* The native toplevel parses with camlp5 and HOL Light's pa_j, as the bytecode
   toplevel does once hol.ml has loaded camlp5o.cma and pa_j.cmo: term
   quotations and all-caps value names (ARITH_TAC) mean what they mean there. *)

let chars_of (lb : Lexing.lexbuf) : char Stream.t =
  Stream.from (fun _ ->
      while lb.Lexing.lex_curr_pos >= lb.Lexing.lex_buffer_len && not lb.Lexing.lex_eof_reached do
        lb.Lexing.refill_buff lb
      done;
      if lb.Lexing.lex_curr_pos >= lb.Lexing.lex_buffer_len then None
      else begin
        let c = Bytes.get lb.Lexing.lex_buffer lb.Lexing.lex_curr_pos in
        lb.Lexing.lex_curr_pos <- lb.Lexing.lex_curr_pos + 1;
        Some c
      end)

(* A camlp5 error is reported here, where its location is known, and the
   toplevel is told with Exit that it was (what camlp5's own glue does too). *)
let reporting (parse : char Stream.t -> 'a) (lb : Lexing.lexbuf) : 'a =
  let cs = chars_of lb in
  try parse cs with
  | End_of_file as e -> raise e
  | Ploc.Exc (_, (Sys.Break as e)) -> raise e
  | e ->
    let e = match e with
      | Ploc.Exc (loc, inner) ->
        Format.eprintf "%s@." (Ploc.string_of_location loc); inner
      | e -> e in
    (match e with Stream.Failure | Stream.Error _ -> !Pcaml.sync cs | _ -> ());
    Format.printf "@[<hov 0>";
    Pcaml.report_error e;
    Format.printf "@]@.";
    raise Exit

let toplevel_phrase (cs : char Stream.t) : Parsetree.toplevel_phrase =
  Pcaml.input_file := !Toploop.input_name;
  match Pcaml.parse_top_phrase cs with
  | Some phrase -> Ast2pt.phrase phrase
  | None -> raise End_of_file

(* A file's phrases, directives included: camlp5 stops at each directive. *)
let use_file (cs : char Stream.t) : Parsetree.toplevel_phrase list =
  let saved = !Pcaml.input_file in
  Pcaml.input_file := !Toploop.input_name;
  Fun.protect ~finally:(fun () -> Pcaml.input_file := saved) (fun () ->
      let rec all acc =
        let items, stopped_at_directive = Pcaml.parse_use_file cs in
        let acc = List.rev_append items acc in
        if stopped_at_directive then all acc else List.rev acc in
      List.map Ast2pt.phrase (all []))

let install () =
  Toploop.parse_toplevel_phrase := reporting toplevel_phrase;
  Toploop.parse_use_file := reporting use_file
