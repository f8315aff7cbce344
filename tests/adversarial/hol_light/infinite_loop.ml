let rec loop x = loop x in loop 0
