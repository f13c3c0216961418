"""The engine: IR nodes, buffers, storages and views in; (Storage, View) out.

    realize.py    the entry points: eager nodes, deferred graphs, scatter, externs
    plans.py      kernel nodes -> one-launch Programs (the plan cache)
    program.py    Program: launch records over buffer slots, recorded and replayed
    trace.py      TraceCache: the one run / record / replay policy
    signature.py  graph_signature: the one key every Program cache uses
    results.py    results of earlier realisations, reused by later graphs

It sits below Tensor and never imports it (a test checks): the frontend
(tensor.py, the op modules, realization.py, regions.py, compile.py) owns
every change of a Tensor's state.
"""
