"""One clock for every engine: the cost model, the schedule, the race checker and the traces.

`schedule(program, config)` works out when every instruction starts and ends (docs/timing.md); no
instruction's time depends on data, so the schedule needs only the program and the config.
"""
