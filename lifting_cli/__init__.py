"""The command line, the top of the house: ``lifting <subcommand>`` (console script ``lifting_cli.main:main``).

It imports every other package (the core ``lifting``, ``model_fitting``, ``tools``, ``prototxt``) and nothing imports
it: turning parsed options into the named arguments of the library functions happens here and nowhere below.
"""
