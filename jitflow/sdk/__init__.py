"""jitflow's Sym-compatible SDK: the names a Sym ``impl.py`` imports from ``sym.sdk``.

This folder is framework code, not a place for user reducers. Users import these names from the
top-level package (``from reducers import hook``) or through the module names Sym uses
(``from reducers.annotations import hook``), which ``reducers/__init__.py`` maps onto the
modules here.
"""
