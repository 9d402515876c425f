"""Write the synthetic history in this folder: bposim simulates the known centre (known.yaml) over its four weeks
and writes what an ACD would report per interval (interval_history.csv) and its call log (call_log.csv), the
files `bposim fit` reads back.

Run it from the project's root: python models/history/make_history.py
Then fit them (this writes models/history/fitted.yaml):
    bposim fit models/history/interval_history.csv --calls models/history/call_log.csv \
        --scenario models/history/known.yaml --out models/history/fitted.yaml --report out/fit_report.html
"""

from __future__ import annotations

from pathlib import Path

import bposim
from bposim.fitting import synthetic

HERE = Path(__file__).resolve().parent
SEED = 2027


def main() -> None:
    run = bposim.simulate(bposim.load_scenario(HERE / "known.yaml"), seed=SEED)
    history = synthetic.interval_history(run)
    log = synthetic.call_log(run)
    history.to_csv(HERE / "interval_history.csv", index=False)
    log.to_csv(HERE / "call_log.csv", index=False)
    print(f"{len(history):,} interval rows, {len(log):,} calls written to {HERE}")


if __name__ == "__main__":
    main()
