"""The exit codes of every command, in one place (the standard library only: `check --server` imports this).

0 success or PASS; 1 a verdict other than PASS, or a refusal (a bundle, a board audit); 2 bad usage or
input; 3 a checker or prover unavailable, or an attempt ended in ERROR; 130 interrupted.
"""

EXIT_OK = 0
EXIT_VERDICT = 1
EXIT_REFUSED = 1
EXIT_USAGE = 2
EXIT_INFRA = 3
EXIT_INTERRUPTED = 130
