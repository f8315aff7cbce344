"""provebench's suites, prompts and checkers as an Inspect task (``pip install 'provebench[inspect]'``).

``inspect eval provebench/suite -T suite=NAME --model PROVIDER/MODEL``: each problem a sample, prompted as a
``provebench run`` prompts it, its proof checked by provebench's engine; ``provebench import-inspect`` turns
the log back into a run directory.
"""
