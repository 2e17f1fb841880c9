"""Shared code lists of the record schema.

These lists are public knowledge: every party uses the same ones, so a cross-tab computed in MPC
has the same cells at every organisation. Order matters (it is the cell order); extend at the end.
"""

from __future__ import annotations

FORMS = ("sexual", "labour", "criminal", "other")

SEXES = ("F", "M", "X")

# The 10 regional units of the Dutch National Police
# (nl.wikipedia.org/wiki/Regionale_eenheden_van_de_Nationale_Politie).
REGIONS = (
    "noord-nederland",
    "oost-nederland",
    "midden-nederland",
    "noord-holland",
    "amsterdam",
    "den-haag",
    "rotterdam",
    "zeeland-west-brabant",
    "oost-brabant",
    "limburg",
)

SECTORS = (
    # sexual exploitation
    "sex_home", "sex_escort_hotel", "sex_street", "sex_window_club", "sex_online",
    # labour exploitation
    "agriculture_horticulture", "meat_food_processing", "distribution_logistics", "hospitality",
    "cleaning", "construction", "domestic_work", "transport_shipping", "retail", "nail_beauty",
    # criminal exploitation
    "drug_transport_sales", "cannabis_cultivation", "money_mule", "shoplifting_theft", "explosives", "begging",
    "other",
)

NATIONALITY_GROUPS = ("dutch", "eu_central_eastern", "eu_other", "ukraine", "africa", "latin_america", "asia", "other")

_GROUP_OF = {
    "NL": "dutch",
    **{c: "eu_central_eastern" for c in ("PL", "RO", "BG", "HU", "SK", "CZ", "LT", "LV", "EE", "HR", "SI")},
    **{c: "eu_other" for c in ("DE", "BE", "FR", "ES", "PT", "IT", "GR", "IE", "AT", "SE", "DK", "FI")},
    "UA": "ukraine",
    **{c: "africa" for c in ("NG", "UG", "GH", "ER", "SL", "GN", "MA", "ET", "CM", "SO")},
    **{c: "latin_america" for c in ("VE", "CO", "BR", "DO", "SR", "PE", "EC")},
    **{c: "asia" for c in ("CN", "VN", "IN", "PH", "TH", "ID", "PK", "AF", "SY")},
}


def nationality_group(iso2: str) -> str:
    """Map an ISO 3166 alpha-2 code to one of NATIONALITY_GROUPS ('' stays unknown)."""
    if not iso2:
        return ""
    return _GROUP_OF.get(iso2.upper(), "other")


MEANS_OF_CONTROL = (
    "debt_bondage", "takes_earnings", "threats", "psychological_abuse", "physical_abuse", "sexual_abuse",
    "false_promises", "substances", "restricts_movement", "withholds_documents", "excessive_hours",
    "threat_of_deportation", "housing_dependency", "juju_oath",
)

ILO_INDICATORS = (
    "abuse_of_vulnerability", "deception", "restriction_of_movement", "isolation", "physical_sexual_violence",
    "intimidation_threats", "retention_of_documents", "withholding_of_wages", "debt_bondage",
    "abusive_conditions", "excessive_overtime",
)

RECRUITMENT_METHODS = (
    "loverboy_partner", "family", "friend_acquaintance", "job_advert_online", "temp_agency",
    "recruiter_origin_country", "other",
)

RESIDENCE_STATUSES = (
    "nl_citizen", "eu_citizen", "legal_non_eu", "irregular", "asylum_seeker", "ua_temporary_protection",
)

# Columns every organisation's CSV has; all other schema columns are optional per organisation.
REQUIRED_COLUMNS = ("record_id", "person_key", "org", "registration_date", "form")
MULTI_VALUE_SEPARATOR = ";"

# Added for the generator (issue 3): who the (main) trafficker is to the victim.
TRAFFICKER_RELATIONS = (
    "partner", "family", "acquaintance", "employer", "recruiter_agency", "stranger", "other",
)
