let _ = Sys.command "touch /tmp/provebench-pwned" in ARITH_TAC
