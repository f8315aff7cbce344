let rec grow acc = grow (String.make 100000000 (Char.chr 120) :: acc) in grow []
