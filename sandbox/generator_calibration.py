"""Calibration check of a scenario's generator: the mean headline figures over several seeds.

    python -m sandbox.generator_calibration nl-baseline [--seeds 10]
"""

from __future__ import annotations

import argparse

from sandbox.scenario import load_scenario
from synthetic.calibration import calibration_summary


def main(argv: list[str] | None = None) -> None:
    """Print the calibration summary of a scenario."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenario", nargs="?", default="nl-baseline")
    parser.add_argument("--seeds", type=int, default=10)
    args = parser.parse_args(argv)
    s = load_scenario(args.scenario)
    out = calibration_summary(s.organisations, s.generator, seeds=range(args.seeds))
    print(f"{args.scenario}: mean over {out['seeds']} seeds")
    print(f"  registered              {out['registered']:.1f}")
    print(f"  on >= 2 lists           {out['multi_list_share']:.2%}")
    print(f"  records per registered  {out['records_per_registered']:.3f}")
    for org, share in out["share"].items():
        print(f"  share {org:<18}{share:.1%}")
    for key, share in out["registered_shares"].items():
        print(f"  registered {key:<22}{share:.1%}")


if __name__ == "__main__":
    main()
