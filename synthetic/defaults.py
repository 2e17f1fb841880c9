"""Default generator tables (the nl-baseline calibration), each with its source.

These are the values `GeneratorParams` uses for any section a scenario leaves out; the file
`scenarios/nl-baseline.yaml` spells all of them out. Tags: [O] official figure, [N] news quoting an
official figure, [D] derived, [A] assumption (not a published number). Sources are those collected in
the project's domain notes (domain.md §1–§2); the numbers are blends for a workshop, never official.
"""

from __future__ import annotations

LINKAGE_SECRET = "mpc-trust-sandbox-workshop-secret"

# Optional record columns an organisation holds when a scenario does not say.
DEFAULT_FIELDS = ("given_name", "family_name", "birth_date", "sex", "age", "nationality", "region")

FORMS = {
    "source": "[N] MSE 2018-19 ≈5,000 victims/yr, ≈2,000 sexual, ≈1,000 criminal (nos.nl 2021-11 quoting "
    "WODC 2021); labour/other split [A] from CoMensha 2020 41% 'labour & services'",
    "weights": {"sexual": 0.40, "labour": 0.36, "criminal": 0.18, "other": 0.06},
}

SECOND_FORM = {
    "source": "[A] a small share of victims is exploited in two forms (e.g. sexual + criminal)",
    "value": 0.05,
}

FEMALE_SHARE = {
    "source": "[O] labour: 64% male (Rapporteur labour key figures 2015-19); sexual/criminal [A] (domain.md §2)",
    "by_form": {"sexual": 0.92, "labour": 0.36, "criminal": 0.30, "other": 0.50},
}

MINOR_SHARE = {
    "source": "[N] ≈1,300 of ≈3,000 Dutch sexual victims minors (nu.nl 2019, MSE 2014-18); criminal often "
    "minors (dutchrapporteur 2025-10-16); shares of the hidden population [A]",
    "by_form": {"sexual": 0.22, "labour": 0.02, "criminal": 0.38, "other": 0.10},
}

ADULT_AGE = {
    "source": "[O] labour victims mean age 34 (Rapporteur labour key figures); 45.9% under 23 in 2017 "
    "(ec.europa.eu profile); other means [A]",
    "mean_by_form": {"sexual": 28.0, "labour": 34.0, "criminal": 25.0, "other": 31.0},
    "sd": 9.0,
}

NATIONALITY = {
    "source": "[O] CoMensha 2020: Polish 190, Nigerian 185, Dutch 155 of 1,013; labour: 4% Dutch, 59% rest of "
    "Europe, 21% Asia (Rapporteur); 2022-24 more Ukrainian, Venezuelan, Colombian victims; mix [A]",
    "by_form": {
        "sexual": {"NL": 0.26, "NG": 0.13, "RO": 0.08, "HU": 0.06, "BG": 0.05, "PL": 0.04, "UG": 0.04,
                   "GH": 0.02, "VE": 0.07, "CO": 0.06, "BR": 0.03, "CN": 0.03, "VN": 0.02, "UA": 0.05,
                   "DE": 0.02, "DO": 0.04},
        "labour": {"NL": 0.04, "PL": 0.24, "RO": 0.12, "BG": 0.06, "HU": 0.03, "LT": 0.04, "SK": 0.03,
                   "CZ": 0.02, "UA": 0.12, "IN": 0.06, "VN": 0.05, "CN": 0.06, "ID": 0.04, "NG": 0.03,
                   "UG": 0.02, "BR": 0.04},
        "criminal": {"NL": 0.52, "RO": 0.12, "BG": 0.05, "PL": 0.04, "NG": 0.05, "VN": 0.08, "CN": 0.02,
                     "UA": 0.02, "DE": 0.02, "BR": 0.03, "CO": 0.02, "HU": 0.04},
        "other": {"NL": 0.35, "NG": 0.10, "PL": 0.08, "RO": 0.08, "UA": 0.06, "IN": 0.08, "CN": 0.05,
                  "BR": 0.05, "CO": 0.05, "VN": 0.05, "UG": 0.05},
    },
}

RESIDENCE = {
    "source": "[O] NLA 2022: more than half of labour victims legally resident; Ukrainians under temporary "
    "protection (dutchrapporteur 2023-10-18); split of non-EU statuses [A]",
    "ua_temporary_protection": 0.9,
    "non_eu": {"legal_non_eu": 0.30, "irregular": 0.40, "asylum_seeker": 0.30},
}

SECTOR = {
    "source": "[O]/[N] sexual: home ≈ half, escort/hotel/street 30-40%, window/club <10% (Slachtoffermonitor "
    "2016-20); labour: agri/horticulture largest (Rapporteur, NLA); criminal: drugs, money mules, theft, "
    "explosives, begging (dutchrapporteur 2025-10-16); shares [A]",
    "by_form": {
        "sexual": {"sex_home": 0.45, "sex_escort_hotel": 0.30, "sex_street": 0.04, "sex_window_club": 0.09,
                   "sex_online": 0.07, "other": 0.05},
        "labour": {"agriculture_horticulture": 0.26, "meat_food_processing": 0.12,
                   "distribution_logistics": 0.14, "hospitality": 0.10, "cleaning": 0.07, "construction": 0.08,
                   "domestic_work": 0.06, "transport_shipping": 0.06, "retail": 0.03, "nail_beauty": 0.04,
                   "other": 0.04},
        "criminal": {"drug_transport_sales": 0.38, "cannabis_cultivation": 0.12, "money_mule": 0.16,
                     "shoplifting_theft": 0.16, "explosives": 0.06, "begging": 0.07, "other": 0.05},
        "other": {"domestic_work": 0.20, "other": 0.80},
    },
}

RECRUITMENT = {
    "source": "[O] NLA 2022 / Europol: recruiters share language and kinship, fraudulent agencies, online "
    "job offers; loverboy method for sexual exploitation (domain.md §5); shares [A]",
    "by_form": {
        "sexual": {"loverboy_partner": 0.35, "family": 0.08, "friend_acquaintance": 0.20,
                   "job_advert_online": 0.15, "recruiter_origin_country": 0.17, "other": 0.05},
        "labour": {"loverboy_partner": 0.01, "family": 0.08, "friend_acquaintance": 0.22,
                   "job_advert_online": 0.20, "temp_agency": 0.25, "recruiter_origin_country": 0.20,
                   "other": 0.04},
        "criminal": {"loverboy_partner": 0.12, "family": 0.12, "friend_acquaintance": 0.45,
                     "job_advert_online": 0.18, "recruiter_origin_country": 0.05, "other": 0.08},
        "other": {"loverboy_partner": 0.10, "family": 0.30, "friend_acquaintance": 0.30,
                  "job_advert_online": 0.10, "other": 0.20},
    },
}

MEANS_OF_CONTROL = {
    "source": "[O] CTDC means-of-control list; NLA 2022 'total package', debts, confiscated ID; Dutch signal "
    "lists (domain.md §4-5); rates [A]",
    "by_form": {
        "sexual": {"debt_bondage": 0.30, "takes_earnings": 0.60, "threats": 0.50, "psychological_abuse": 0.55,
                   "physical_abuse": 0.35, "sexual_abuse": 0.40, "false_promises": 0.35, "substances": 0.15,
                   "restricts_movement": 0.30, "withholds_documents": 0.20, "threat_of_deportation": 0.10,
                   "juju_oath": 0.05},
        "labour": {"debt_bondage": 0.40, "takes_earnings": 0.35, "threats": 0.30, "psychological_abuse": 0.25,
                   "physical_abuse": 0.08, "false_promises": 0.55, "restricts_movement": 0.15,
                   "withholds_documents": 0.30, "excessive_hours": 0.55, "threat_of_deportation": 0.12,
                   "housing_dependency": 0.50},
        "criminal": {"debt_bondage": 0.35, "takes_earnings": 0.30, "threats": 0.65, "psychological_abuse": 0.45,
                     "physical_abuse": 0.30, "false_promises": 0.30, "substances": 0.25,
                     "restricts_movement": 0.15},
        "other": {"threats": 0.35, "psychological_abuse": 0.40, "physical_abuse": 0.20, "false_promises": 0.25,
                  "restricts_movement": 0.25, "withholds_documents": 0.15},
    },
}

ILO_INDICATORS = {
    "source": "[O] ILO indicators of forced labour (11); rates [A], highest for labour exploitation",
    "by_form": {
        "sexual": {"abuse_of_vulnerability": 0.50, "deception": 0.35, "restriction_of_movement": 0.30,
                   "isolation": 0.30, "physical_sexual_violence": 0.40, "intimidation_threats": 0.50,
                   "retention_of_documents": 0.20, "withholding_of_wages": 0.50, "debt_bondage": 0.30},
        "labour": {"abuse_of_vulnerability": 0.60, "deception": 0.55, "restriction_of_movement": 0.15,
                   "isolation": 0.25, "physical_sexual_violence": 0.08, "intimidation_threats": 0.30,
                   "retention_of_documents": 0.30, "withholding_of_wages": 0.60, "debt_bondage": 0.40,
                   "abusive_conditions": 0.55, "excessive_overtime": 0.55},
        "criminal": {"abuse_of_vulnerability": 0.60, "deception": 0.30, "intimidation_threats": 0.65,
                     "physical_sexual_violence": 0.30, "debt_bondage": 0.35, "withholding_of_wages": 0.30},
        "other": {"abuse_of_vulnerability": 0.45, "deception": 0.25, "isolation": 0.25,
                  "intimidation_threats": 0.35},
    },
}

REGION = {
    "source": "[O] four of ten police units report >75% of domestic sexual-exploitation cases "
    "(dutchrapporteur 2018-10-18); split [A]",
    "weights": {"noord-nederland": 0.06, "oost-nederland": 0.09, "midden-nederland": 0.10,
                "noord-holland": 0.08, "amsterdam": 0.17, "den-haag": 0.13, "rotterdam": 0.15,
                "zeeland-west-brabant": 0.09, "oost-brabant": 0.07, "limburg": 0.06},
}

EXPLOITATION = {
    "source": "[A] exploitation starts on average ten months before registration; a third still ongoing",
    "mean_months_before_registration": 10.0,
    "ongoing_at_registration": 0.35,
}

TRAFFICKERS = {
    "source": "[O] suspects 2008-12: Dutch 45%, Hungarian 8%, Bulgarian 8%, Romanian 6% (dutchrapporteur "
    "2014-12-01); recruiters share nationality/kinship with victims (Europol); counts and relations [A]",
    "extra_count_mean_by_form": {"sexual": 0.6, "labour": 1.2, "criminal": 1.5, "other": 0.4},
    "same_nationality": 0.6,
    "dutch_if_different": 0.5,
    "relation": {
        "source": "[A] partner ('loverboy') for sexual, employer/agency for labour, acquaintances for criminal",
        "by_form": {
            "sexual": {"partner": 0.35, "family": 0.07, "acquaintance": 0.25, "employer": 0.05,
                       "recruiter_agency": 0.08, "stranger": 0.15, "other": 0.05},
            "labour": {"partner": 0.01, "family": 0.05, "acquaintance": 0.14, "employer": 0.45,
                       "recruiter_agency": 0.28, "stranger": 0.04, "other": 0.03},
            "criminal": {"partner": 0.12, "family": 0.10, "acquaintance": 0.50, "employer": 0.05,
                         "recruiter_agency": 0.03, "stranger": 0.15, "other": 0.05},
            "other": {"partner": 0.20, "family": 0.40, "acquaintance": 0.20, "other": 0.20},
        },
    },
}

IDENTITY_NOISE = {
    "source": "[A] spelling variants and swapped day/month in a few percent of records (workshop default)",
    "spelling_variant": 0.08,
    "swap_day_month": 0.03,
}
