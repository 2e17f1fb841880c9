"""Display labels for the codes the pages show: field names and code-list values of the record schema
(synthetic/vocab.py, the fields of sandbox/mpc/query.py) and the cells made of them ("sexual × F").

The data, the JSON files and the CLI keep the codes; only a page shows a label. In English the label is the
code itself (the msgid), in Dutch its translation from the catalog. A code is marked with a context
(`NC_("code", "minor")` vs `NC_("field", "minor")`), so the same word can be a field and a value; extraction:
`pybabel extract -k NC_:1c,2` (Makefile `i18n-extract`). Pure: no Streamlit import.
"""

from __future__ import annotations

import re

from sandbox.i18n import current_language, normalise_language, translations

__all__ = ["cell_label", "code_label", "field_label", "phase_label"]


def NC_(context: str, code: str) -> str:  # noqa: N802  (the gettext convention)
    """Marks a code for extraction with its context, without translating it."""
    return code


# Every field of a designed query (sandbox.mpc.query.FIELDS) ...
_FIELDS = (
    NC_("field", "form"), NC_("field", "sex"), NC_("field", "minor"), NC_("field", "dutch"),
    NC_("field", "nationality_group"), NC_("field", "region"), NC_("field", "sector"), NC_("field", "recruitment"),
    NC_("field", "means_of_control"), NC_("field", "ilo_indicators"), NC_("field", "residence_status"),
    NC_("field", "trafficker_relation"),
)
# ... and every value of their code lists (synthetic/vocab.py), in the code lists' order.
_CODES = (
    NC_("code", "sexual"), NC_("code", "labour"), NC_("code", "criminal"), NC_("code", "other"), NC_("code", "F"),
    NC_("code", "M"), NC_("code", "X"), NC_("code", "minor"), NC_("code", "adult"), NC_("code", "dutch"),
    NC_("code", "non_dutch"), NC_("code", "eu_central_eastern"), NC_("code", "eu_other"), NC_("code", "ukraine"),
    NC_("code", "africa"), NC_("code", "latin_america"), NC_("code", "asia"), NC_("code", "noord-nederland"),
    NC_("code", "oost-nederland"), NC_("code", "midden-nederland"), NC_("code", "noord-holland"),
    NC_("code", "amsterdam"), NC_("code", "den-haag"), NC_("code", "rotterdam"), NC_("code", "zeeland-west-brabant"),
    NC_("code", "oost-brabant"), NC_("code", "limburg"), NC_("code", "sex_home"), NC_("code", "sex_escort_hotel"),
    NC_("code", "sex_street"), NC_("code", "sex_window_club"), NC_("code", "sex_online"),
    NC_("code", "agriculture_horticulture"), NC_("code", "meat_food_processing"),
    NC_("code", "distribution_logistics"), NC_("code", "hospitality"), NC_("code", "cleaning"),
    NC_("code", "construction"), NC_("code", "domestic_work"), NC_("code", "transport_shipping"),
    NC_("code", "retail"), NC_("code", "nail_beauty"), NC_("code", "drug_transport_sales"),
    NC_("code", "cannabis_cultivation"), NC_("code", "money_mule"), NC_("code", "shoplifting_theft"),
    NC_("code", "explosives"), NC_("code", "begging"), NC_("code", "loverboy_partner"), NC_("code", "family"),
    NC_("code", "friend_acquaintance"), NC_("code", "job_advert_online"), NC_("code", "temp_agency"),
    NC_("code", "recruiter_origin_country"), NC_("code", "debt_bondage"), NC_("code", "takes_earnings"),
    NC_("code", "threats"), NC_("code", "psychological_abuse"), NC_("code", "physical_abuse"),
    NC_("code", "sexual_abuse"), NC_("code", "false_promises"), NC_("code", "substances"),
    NC_("code", "restricts_movement"), NC_("code", "withholds_documents"), NC_("code", "excessive_hours"),
    NC_("code", "threat_of_deportation"), NC_("code", "housing_dependency"), NC_("code", "juju_oath"),
    NC_("code", "abuse_of_vulnerability"), NC_("code", "deception"), NC_("code", "restriction_of_movement"),
    NC_("code", "isolation"), NC_("code", "physical_sexual_violence"), NC_("code", "intimidation_threats"),
    NC_("code", "retention_of_documents"), NC_("code", "withholding_of_wages"), NC_("code", "abusive_conditions"),
    NC_("code", "excessive_overtime"), NC_("code", "nl_citizen"), NC_("code", "eu_citizen"),
    NC_("code", "legal_non_eu"), NC_("code", "irregular"), NC_("code", "asylum_seeker"),
    NC_("code", "ua_temporary_protection"), NC_("code", "partner"), NC_("code", "acquaintance"),
    NC_("code", "employer"), NC_("code", "recruiter_agency"), NC_("code", "stranger"),
)
# The phases of an MPC run (`ctx.phase(...)` in sandbox/mpc/protocols, and sandbox/views/run_view.py's own).
_PHASES = (
    NC_("phase", "set-up"), NC_("phase", "input"), NC_("phase", "compute"), NC_("phase", "count"),
    NC_("phase", "shuffle"), NC_("phase", "pseudonyms"), NC_("phase", "output"), NC_("phase", "wrap-up"),
)
_PARTS = re.compile(r"( × |[|;+/, ])")


def _pgettext(context: str, code: str, lang: str | None) -> str:
    return translations(normalise_language(lang) or current_language()).pgettext(context, code)


def field_label(name: str, lang: str | None = None) -> str:
    """'form' -> 'vorm van uitbuiting' (nl) / 'form' (en); an unknown name is shown as it is."""
    return _pgettext("field", str(name), lang)


def code_label(code: str, lang: str | None = None) -> str:
    """'sexual' -> 'seksuele uitbuiting' (nl) / 'sexual' (en); an unknown code is shown as it is."""
    return _pgettext("code", str(code), lang)


def phase_label(name: str, lang: str | None = None) -> str:
    """An MPC phase ('input') in the timings and the sequence diagram; the transcripts keep the name."""
    return _pgettext("phase", str(name), lang)


def cell_label(cell: str, lang: str | None = None) -> str:
    """A cell of a result made of codes: 'labour × F' -> 'arbeidsuitbuiting × vrouw', 'amsterdam|sexual' ->
    'Amsterdam|seksuele uitbuiting'; parts that are no code (an organisation id, a number) stay as they are."""
    return "".join(part if _PARTS.fullmatch(part) else code_label(part, lang) for part in _PARTS.split(str(cell)))
