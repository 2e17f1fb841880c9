"""What is revealed: the disclosure ledger, the collusion explorer and the disclosure playground."""

from pathlib import Path

import pandas as pd
import streamlit as st

from sandbox.ui import (
    T,
    _,
    error_text,
    last_run_or_offer,
    local_columns,
    ngettext,
    num,
    synthetic_banner,
    what_it_means,
)
from sandbox.views import disclosure
from sandbox.views.collusion import attempt, collusion
from sandbox.views.figures import fig_attack, fig_ledger, fig_tradeoff, org_colours
from sandbox.views.ledger import ledger, ledger_csv, seen_label

EPSILONS = [0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0]


def show_ledger(run, colours) -> None:
    st.header(_("1. The disclosure ledger"))
    table = ledger(run)
    st.plotly_chart(fig_ledger(table, colours), key="rv_fig_ledger")
    shown = table.assign(seen_in_clear_by=table["seen_in_clear_by"].map(seen_label))
    st.dataframe(local_columns(shown), hide_index=True, key="rv_ledger")
    st.download_button(
        _("Download the ledger (CSV)"),
        ledger_csv(table),
        file_name=f"ledger-{run.computation}.csv",
        mime="text/csv",
        key="rv_ledger_csv",
        on_click="ignore",
    )
    st.markdown(_(
        "One row per secret value of this run, read from the parties' transcripts: each input is seen "
        "in the clear by its owner only; outputs are opened to all or withheld; intermediate protocol "
        "steps are seen by nobody."
    ))
    what_it_means(_("the only things any other organisation learns from you are the opened joint totals."))


def _attempt_table(result) -> pd.DataFrame:
    rows = result.rows[:200]
    return pd.DataFrame([{_("organisation"): r["owner"], _("value"): r["cell"],
                          _("coalition's reconstruction"): str(r["guess"]),
                          _("true value (facilitator only)"): r["true_value"],
                          _("right?"): _("yes") if r["right"] else _("no")}
                         for r in rows])


def show_collusion(run, colours, names) -> None:
    st.header(_("2. What if organisations secretly pooled their shares?"))
    if not run.share_labels():
        st.info(_("This run has no secret-shared inputs to pool."))
        return
    default = run.orgs[: run.threshold]
    coalition = st.multiselect(
        _("Colluding organisations"),
        run.orgs,
        default=default,
        key="rv_coalition",
        format_func=lambda o: names.get(o, o),
    )
    if not coalition or len(coalition) == run.m:
        st.info(_("Choose at least one organisation, and not all of them."))
        return
    coalition = [o for o in run.orgs if o in coalition]
    larger = coalition + [next(o for o in run.orgs if o not in coalition)] if len(coalition) <= run.threshold else None
    st.markdown(_(
        "The attack: the coalition pools the shares in its members' own transcripts and interpolates the "
        "polynomial through them (threshold t = {t}: every value is hidden in a polynomial of "
        "degree {t}). Each reconstruction is then checked against the owner's own input — a "
        "check only the sandbox can make."
    ).format(t=run.threshold))
    columns = st.columns(2 if larger else 1)
    for column, members in zip(columns, [coalition, larger] if larger else [coalition], strict=True):
        outcome = attempt(run, members)
        box = column.warning if outcome.learned_everything else column.success
        box(
            ngettext("**{n} organisation** ({names}): ", "**{n} organisations** ({names}): ", len(members)).format(
                n=len(members), names=", ".join(names.get(o, o) for o in members))
            + _("**{right} of {total}** secret values of the others reconstructed right.").format(
                right=num(outcome.right), total=num(outcome.total))
            + " "
            + (_("More than t: they learn every input of the others.") if len(members) > run.threshold
               else _("At most t: their reconstructions are random numbers."))
        )
        column.dataframe(_attempt_table(outcome), hide_index=True, key=f"rv_attempt_{len(members)}")
    if larger:
        st.caption(_(
            "Right: the same attack by a coalition with one more member ({k} > t) — it succeeds "
            "on the same run. The protection holds only while no more than t organisations collude."
        ).format(k=run.threshold + 1))
    if len(coalition) > run.threshold:
        what_it_means(_(
            "the protection holds only while no more than t = {t} organisations collude; "
            "that is what the governance agreement must guarantee."
        ).format(t=run.threshold))
        return
    outsiders = [o for o in run.orgs if o not in coalition]
    with st.expander(_("Why it fails: every candidate value fits what the coalition holds")):
        col1, col2 = st.columns(2)
        owner = col1.selectbox(_("Whose value"), outsiders, key="rv_target_owner",
                               format_func=lambda o: names.get(o, o))
        label = run.share_labels()[0]
        cells = run.share_cells(owner, label)
        cell = col2.selectbox(_("Which value"), list(range(min(len(cells), 200))), key="rv_target_cell",
                              format_func=lambda i: cells[i])
        result = collusion(run, coalition, target_owner=owner, target_label=label, target_index=int(cell))
        st.markdown(
            result.explanation + " " + _("This is arithmetic, not evidence: the evidence is the failed attack above.")
        )
        table = pd.DataFrame(
            [
                {
                    _("candidate secret"): c.secret,
                    _("polynomials through the coalition's shares"): result.polynomials_per_candidate,
                    **{_("{org} would hold").format(org=o): str(v) for o, v in c.implied_shares.items()},
                }
                for c in result.candidates
            ]
        )
        st.dataframe(table, hide_index=True, key="rv_candidates")
    what_it_means(ngettext(
        "even if {n} other organisation broke the agreement and pooled everything it "
        "received, it could not reconstruct your values.",
        "even if {n} other organisations broke the agreement and pooled everything they "
        "received, they could not reconstruct your values.", len(coalition)).format(n=len(coalition)))


def show_playground(scenario, run, data_dir) -> None:
    st.header(_("3. Disclosure playground: a differencing attack"))
    st.markdown(_(
        "Two harmless-looking questions: **A** = registrations in region R, **B** = registrations in "
        "region R *excluding* nationality N. If exactly one registration in R has nationality N, then "
        "A − B = 1 exposes that person. Below the queries are answered by **real MPC runs**."
    ))
    frames = disclosure.load_frames(data_dir, run.orgs)
    targets = disclosure.find_targets(frames)
    if not targets:
        st.info(_("This dataset has no region and nationality pair with exactly one registration."))
        return
    default = next((i for i, tg in enumerate(targets) if tg.a >= 3), 0)
    col1, col2, col3 = st.columns(3)
    i = col1.selectbox(
        _("Region R and nationality N"),
        list(range(len(targets))),
        index=default,
        key="rv_target",
        format_func=lambda k: f"{targets[k].region} / {targets[k].nationality} (A = {targets[k].a})",
    )
    target = targets[i]
    min_cell = col2.number_input(
        _("Small-cell threshold (min_cell)"), 1, 100, scenario.disclosure.min_cell, key="rv_min_cell"
    )
    epsilon = col3.select_slider(_("Noise: epsilon"), EPSILONS, value=1.0, key="rv_epsilon")
    with st.expander(_("FACILITATOR ONLY — the registration the attack is after")):
        st.json(target.record)
    if st.button(_("Run the attack with MPC (about 7 runs)"), key="rv_attack"):
        with st.spinner(_("Running the queries with one MPyC process per organisation...")):
            st.session_state["rv_playground"] = disclosure.run_playground(
                scenario,
                data_dir,
                target,
                min_cell=int(min_cell),
                epsilon=float(epsilon),
                orgs=run.orgs,
            )
    played = st.session_state.get("rv_playground")
    if (
        played is not None
        and played.target.region == target.region
        and played.target.nationality == target.nationality
    ):
        st.plotly_chart(fig_attack(played.outcomes), key="rv_fig_attack")
        titles = {
            "none": _("(a) No protection"),
            "threshold": _("(b) Small-cell threshold inside MPC"),
            "approval": _("(c) Query-approval rule"),
            "noise": _("(d) Noise before opening"),
        }
        for o in played.outcomes:
            box = st.error if o.success and o.protection != "noise" else st.success
            box(f"**{titles[o.protection]}** — {o.explanation}")
    forms = len([f for f in str(target.record.get("form", "")).split(";") if f])
    cells_per_record = 1 + max(forms, 1)
    st.plotly_chart(fig_tradeoff(disclosure.tradeoff(EPSILONS, parties=run.m, cells_per_record=cells_per_record)),
                    key="rv_fig_tradeoff")
    st.markdown(_(
        "The approval rule: *a query is approved only if its set of records differs from every earlier "
        "approved query's set by at least min_cell = {min_cell} records.* It is decided inside MPC, which "
        "opens one yes/no bit and nothing else. That bit is still information: a refusal says the two "
        "queries differ by fewer than {min_cell} registrations (perhaps none), an approval that they differ "
        "by at least {min_cell}. Noise: each organisation draws its own share of discrete-Laplace noise from "
        "its computer's secure random generator and adds it inside MPC, so nobody sees the exact count — "
        "nobody can recompute the noise either. "
        "Privacy loss per person: ε per cell, and this registration counts in {cells} cells "
        "(the total and {forms} form(s)), so one noisy query costs {cells}·ε for it."
    ).format(min_cell=min_cell, cells=cells_per_record, forms=max(forms, 1)))
    what_it_means(_(
        "exact totals can still expose one of your clients when questions are combined; the approval "
        "rule and noise are the safeguards to agree on before any query is run."
    ))


st.title(_("What is revealed, and to whom"))
synthetic_banner()

try:
    scenario, run = last_run_or_offer("rv_quick_run")
    colours = org_colours(scenario, run.orgs)
    names = {o.id: T(o.name) for o in scenario.organisations}
    show_ledger(run, colours)
    show_collusion(run, colours, names)
    data_dir = st.session_state.get("data_dir")
    if data_dir and all((Path(data_dir) / f"{o}.csv").is_file() for o in run.orgs):
        show_playground(scenario, run, data_dir)
    else:
        st.info(_("The disclosure playground needs the data folder of the last run (set on the Run page)."))
except Exception as exc:  # never a traceback on the projector
    st.error(_("This page could not be shown: {error}").format(error=error_text(exc)))
