"""provebench's proof tools for any MCP client (``pip install 'provebench[mcp]'``, then ``provebench mcp``).

Coding assistants and agent frameworks open proof sessions on a suite's problems, apply tactics, search
theorems and check proofs against provebench's checkers, over the Model Context Protocol on stdio.
"""
